// A waypoint between two in-process ztunnels on loopback: the client's ztunnel sends service traffic to
// the waypoint over HBONE, the waypoint authorizes, routes and forwards over HBONE to the destination's
// ztunnel. Real sockets, real mTLS, real HTTP/2 CONNECT.
import http from "node:http";
import net from "node:net";
import tls from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SockAddr } from "../shared/index.ts";
import { memoryLogger } from "../shared/index.ts";
import { inProcessMesh, inProcessWaypoint, type InProcessMesh } from "../testing/index.ts";
import { parseLocalConfig, toResources } from "../proxy/index.ts";
import { StateStore } from "../proxy/index.ts";
import type { Waypoint } from "./app.ts";

const WP = { hostname: "waypoint.demo.svc.cluster.local", namespace: "demo" };
const base = `
workloads:
  - { uid: u-sleep, name: sleep, namespace: demo, workloadIps: [127.0.1.10], serviceAccount: sleep, node: node-1 }
  - { uid: u-other, name: other, namespace: other, workloadIps: [127.0.1.11], serviceAccount: client, node: node-1 }
  - { uid: u-v1, name: web-v1, namespace: demo, workloadIps: [127.0.2.10], serviceAccount: web, node: node-2, services: { "demo/web.demo.svc.cluster.local": { 80: 8080 }, "demo/web-v1.demo.svc.cluster.local": { 80: 8080 } } }
  - { uid: u-v2, name: web-v2, namespace: demo, workloadIps: [127.0.2.11], serviceAccount: web, node: node-2, services: { "demo/web-v2.demo.svc.cluster.local": { 80: 8080 } } }
  - { uid: u-wp, name: waypoint, namespace: demo, workloadIps: [127.0.4.10], serviceAccount: waypoint, node: waypoint-node, services: { "demo/waypoint.demo.svc.cluster.local": { 15008: 15008 } } }
services:
  - { name: web, namespace: demo, hostname: web.demo.svc.cluster.local, vips: [127.0.3.10], ports: { 80: 8080 }, waypoint: ${JSON.stringify(WP)} }
  - { name: web-v1, namespace: demo, hostname: web-v1.demo.svc.cluster.local, vips: [127.0.3.11], ports: { 80: 8080 } }
  - { name: web-v2, namespace: demo, hostname: web-v2.demo.svc.cluster.local, vips: [127.0.3.12], ports: { 80: 8080 } }
  - { name: empty, namespace: demo, hostname: empty.demo.svc.cluster.local, vips: [127.0.3.13], ports: { 80: 8080 }, waypoint: ${JSON.stringify(WP)} }
  - { name: waypoint, namespace: demo, hostname: waypoint.demo.svc.cluster.local, vips: [127.0.3.20], ports: { 15008: 15008 } }
`;
const l7 = `
httpRoutes:
  - name: web
    namespace: demo
    parents: [demo/web.demo.svc.cluster.local]
    rules:
      - matches: [{ headers: [{ name: end-user, value: jason }] }, { path: { type: PathPrefix, value: /v2 } }]
        backends: [{ service: demo/web-v2.demo.svc.cluster.local, port: 80 }]
        requestHeaders: { set: { x-routed: v2 } }
      - matches: [{ path: { type: PathPrefix, value: /hdr } }]
        backends: [{ service: demo/web-v1.demo.svc.cluster.local, port: 80 }]
        requestHeaders: { set: { X-Header-Set: from-route }, add: { X-Header-Add: added }, remove: [X-Header-Remove] }
      - backends: [{ service: demo/web-v1.demo.svc.cluster.local, port: 80 }]
l7Policies:
  - name: no-delete
    namespace: demo
    action: Deny
    targets: [{ kind: Gateway, namespace: demo, name: waypoint }]
    rules: [{ to: [{ methods: [DELETE] }] }]
  - name: only-sleep
    namespace: demo
    action: Allow
    targets: [{ kind: Service, namespace: demo, name: web }]
    rules: [{ from: [{ principals: [cluster.local/ns/demo/sa/sleep] }] }]
`;

interface Seen {
  app: string;
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
}

let mesh: InProcessMesh;
let waypoint: Waypoint;
let wpLog: Array<Record<string, unknown>>;
const apps: http.Server[] = [];

function app(ip: string, name: string): Promise<void> {
  const server = http.createServer((req, res) => {
    const body = JSON.stringify({ app: name, method: req.method ?? "", url: req.url ?? "", headers: req.headers } satisfies Seen);
    req.resume();
    res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) }).end(body);
  });
  // As gunicorn does (2 s): close an idle keep-alive connection without announcing a Keep-Alive timeout
  // (Node's Agent would otherwise expire the pooled socket first and hide the bug).
  server.keepAliveTimeout = 0;
  server.on("connection", (s: net.Socket) => s.setTimeout(300, () => s.end()));
  apps.push(server);
  return new Promise((r) => server.listen(8080, ip, () => r()));
}

/** An HTTP request from a pod, through its node's ztunnel (as capture would send it). */
async function request(
  srcIp: string,
  dst: SockAddr,
  method: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  const socket = await mesh.dial(srcIp, dst);
  return new Promise((resolve, reject) => {
    const req = http.request({ createConnection: () => socket, method, path, headers: { host: "web.demo", ...headers } }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => {
        socket.destroy();
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    req.on("error", reject);
    req.end();
  });
}

const WEB = { ip: "127.0.3.10", port: 80 };

beforeAll(async () => {
  await Promise.all([app("127.0.2.10", "web-v1"), app("127.0.2.11", "web-v2")]);
  mesh = await inProcessMesh({ nodes: ["node-1", "node-2"], config: base + l7, logs: true });
  const store = new StateStore();
  store.replace(toResources(parseLocalConfig(base + l7)));
  const m = memoryLogger("debug");
  wpLog = m.records;
  // Ztunnels reach the waypoint pod's own HBONE listener.
  waypoint = await inProcessWaypoint(mesh, { host: "127.0.4.10", namespace: "demo", state: store, accessLog: m.logger });
});

afterAll(async () => {
  await waypoint?.stop();
  await mesh?.close();
  await Promise.all(apps.map((s) => new Promise((r) => s.close(r))));
});

describe("waypoint (in process)", () => {
  it("routes by HTTPRoute: default rule to v1, header or path match to v2 with the header modifier", async () => {
    const a = await request("127.0.1.10", WEB, "GET", "/get?x=1");
    expect(a.status).toBe(200);
    const seenA = JSON.parse(a.body) as Seen;
    expect(seenA).toMatchObject({ app: "web-v1", method: "GET", url: "/get?x=1" });
    expect(seenA.headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
    const b = JSON.parse((await request("127.0.1.10", WEB, "GET", "/", { "end-user": "jason" })).body) as Seen;
    expect(b).toMatchObject({ app: "web-v2", headers: { "x-routed": "v2" } });
    const c = JSON.parse((await request("127.0.1.10", WEB, "POST", "/v2/items")).body) as Seen;
    expect(c).toMatchObject({ app: "web-v2", method: "POST" });
  });

  it("applies the header modifier to requests that already carry those headers, in any case (finding 8)", async () => {
    const cases: Array<Record<string, string>> = [
      {},
      { "x-header-set": "client", "X-Header-Remove": "gone", "x-header-add": "mine" },
      { "X-HEADER-SET": "a", "x-header-remove": "b" },
    ];
    for (const headers of cases) {
      const r = await request("127.0.1.10", WEB, "GET", "/hdr", headers);
      expect(r.status).toBe(200);
      const seen = JSON.parse(r.body) as Seen;
      expect(seen.headers["x-header-set"]).toBe("from-route");
      expect(seen.headers["x-header-remove"]).toBeUndefined();
      expect(String(seen.headers["x-header-add"])).toMatch(/added$/);
    }
  });

  it("answers a request after the upstream closed its idle keep-alive connection (finding 8)", async () => {
    for (let i = 0; i < 3; i++) {
      const r = await Promise.race([
        request("127.0.1.10", WEB, "GET", "/hdr", { "x-header-add": "mine" }),
        new Promise<{ status: number }>((res) => setTimeout(() => res({ status: -1 }), 3000)),
      ]);
      expect(r.status, `request ${i} after an idle pause`).toBe(200);
      await new Promise((res) => setTimeout(res, 600));
    }
  });

  it("enforces L7 policy: a DENY on the waypoint and an ALLOW on the service, with Istio's 403 body", async () => {
    expect(await request("127.0.1.10", WEB, "DELETE", "/x")).toEqual({ status: 403, body: "RBAC: access denied" });
    expect(await request("127.0.1.11", WEB, "GET", "/x")).toEqual({ status: 403, body: "RBAC: access denied" });
    expect(wpLog.some((r) => r.code === 403 && r.policy === "demo/no-delete")).toBe(true);
  });

  it("answers 503 for a service without healthy endpoints, and keeps serving", async () => {
    const r = await request("127.0.1.10", { ip: "127.0.3.13", port: 80 }, "GET", "/");
    expect(r.status).toBe(503);
    expect(r.body).toBe("no healthy upstream");
    expect((await request("127.0.1.10", WEB, "GET", "/")).status).toBe(200);
  });

  it("reports Istio's HTTP metrics with reporter=waypoint; the destination ztunnel sees the waypoint's identity", async () => {
    const text = await waypoint.metrics.registry.metrics();
    const ok = text
      .split("\n")
      .find((l) => l.startsWith("istio_requests_total{") && l.includes('response_code="200"') && l.includes('destination_workload="web-v2"'));
    expect(ok).toContain('reporter="waypoint"');
    expect(ok).toContain('source_workload="sleep"');
    expect(ok).toContain('source_principal="spiffe://cluster.local/ns/demo/sa/sleep"');
    expect(ok).toContain('destination_service="web.demo.svc.cluster.local"');
    const denied = text.split("\n").filter((l) => l.startsWith("istio_requests_total{") && l.includes('response_code="403"'));
    expect(denied.reduce((n, l) => n + Number(l.split(" ").pop()), 0)).toBe(2);
    expect(text).toMatch(/istio_request_duration_milliseconds_bucket\{/);
    const inbound = await mesh.ztunnel("node-2").metrics.registry.metrics();
    expect(inbound).toMatch(
      /istio_tcp_connections_opened_total\{reporter="destination"[^}]*source_principal="spiffe:\/\/cluster\.local\/ns\/demo\/sa\/waypoint"/,
    );
  });

  it("survives garbage in a tunnel (400) and refuses clients without a mesh certificate", async () => {
    const socket = await mesh.dial("127.0.1.10", WEB);
    const reply = await new Promise<string>((resolve) => {
      let got = "";
      socket.on("data", (c: Buffer) => (got += c.toString()));
      socket.on("close", () => resolve(got));
      socket.write("\x16\x03\x01 definitely not HTTP\r\n\r\n");
    });
    expect(reply).toMatch(/^HTTP\/1\.1 400/);
    const bare = tls.connect({ ...waypoint.addresses().hbone, host: "127.0.4.10", rejectUnauthorized: false, ALPNProtocols: ["h2"] });
    const outcome = await new Promise<string>((resolve) => {
      bare.on("error", (e) => resolve(`error: ${e.message}`));
      bare.on("close", () => resolve("closed"));
      bare.on("secureConnect", () => bare.write("x"));
    });
    expect(outcome).toMatch(/error|closed/);
    expect((await request("127.0.1.10", WEB, "GET", "/")).status).toBe(200);
  });

  it("is ready once it has config and a certificate; config_dump shows its routes", async () => {
    expect(waypoint.readiness.ready).toBe(true);
    const dump = waypoint.configDump() as { routes: Array<{ name: string }>; identity: string };
    expect(dump.identity).toBe("spiffe://cluster.local/ns/demo/sa/waypoint");
    expect(dump.routes.map((r) => r.name)).toEqual(["web"]);
    expect(net.isIP(waypoint.addresses().hbone.ip)).toBe(4);
  });
});
