// HTTPRoute retry and RequestMirror through a real waypoint between two in-process ztunnels: the route
// as YAML, translated by the control plane's own translation; backends that fail on purpose, a mirror
// that records what it is sent and one that never answers.
import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { DEFAULT_TRANSLATE_OPTIONS, translateHttpRoutes, type HTTPRoute } from "../control-plane/index.ts";
import { memoryLogger } from "../shared/index.ts";
import { inProcessMesh, inProcessWaypoint, type InProcessMesh } from "../testing/index.ts";
import { parseLocalConfig, StateStore, toResources } from "../proxy/index.ts";
import type { Waypoint } from "./app.ts";
import { PassThrough } from "node:stream";
import { MIRROR_BODY_LAG, shadowAuthority, teeBody } from "./mirror.ts";

const NS = "retry";
const WP = { hostname: `waypoint.${NS}.svc.cluster.local`, namespace: NS };
const svc = (name: string, vip: string, waypoint = false) =>
  `  - { name: ${name}, namespace: ${NS}, hostname: ${name}.${NS}.svc.cluster.local, vips: [${vip}], ports: { 80: 8080 }, appProtocols: { 80: http }${waypoint ? `, waypoint: ${JSON.stringify(WP)}` : ""} }`;
const BASE = `
workloads:
  - { uid: u-client, name: client, namespace: ${NS}, workloadIps: [127.0.51.10], serviceAccount: client, node: node-1 }
  - { uid: u-web, name: web, namespace: ${NS}, workloadIps: [127.0.52.10], serviceAccount: web, node: node-2, services: { "${NS}/web.${NS}.svc.cluster.local": { 80: 8080 } } }
  - { uid: u-copy, name: copy, namespace: ${NS}, workloadIps: [127.0.52.11], serviceAccount: copy, node: node-2, services: { "${NS}/copy.${NS}.svc.cluster.local": { 80: 8080 } } }
  - { uid: u-hole, name: hole, namespace: ${NS}, workloadIps: [127.0.52.12], serviceAccount: hole, node: node-2, services: { "${NS}/hole.${NS}.svc.cluster.local": { 80: 8080 } } }
  - { uid: u-wp, name: waypoint, namespace: ${NS}, workloadIps: [127.0.54.10], serviceAccount: waypoint, node: waypoint-node, services: { "${NS}/waypoint.${NS}.svc.cluster.local": { 15008: 15008 } } }
services:
${svc("web", "127.0.53.10", true)}
${svc("copy", "127.0.53.11")}
${svc("hole", "127.0.53.12")}
  - { name: waypoint, namespace: ${NS}, hostname: waypoint.${NS}.svc.cluster.local, vips: [127.0.53.20], ports: { 15008: 15008 } }
`;
const ROUTE = `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: web, namespace: ${NS} }
spec:
  parentRefs: [{ group: "", kind: Service, name: web, port: 80 }]
  rules:
    - matches: [{ path: { type: PathPrefix, value: /flaky } }]
      retry: { codes: [503], attempts: 2, backoff: 5ms }
      backendRefs: [{ name: web, port: 80 }]
    - matches: [{ path: { type: PathPrefix, value: /mirrored } }]
      filters:
        - { type: RequestMirror, requestMirror: { backendRef: { name: copy, port: 80 } } }
        - { type: RequestMirror, requestMirror: { backendRef: { name: hole, port: 80 } } }
      backendRefs: [{ name: web, port: 80 }]
    - matches: [{ path: { type: PathPrefix, value: /never-mirrored } }]
      filters: [{ type: RequestMirror, requestMirror: { backendRef: { name: copy, port: 80 }, percent: 0 } }]
      backendRefs: [{ name: web, port: 80 }]
    - backendRefs: [{ name: web, port: 80 }]
`;

interface Seen {
  method: string;
  url: string;
  host: string;
  body: string;
}

let mesh: InProcessMesh;
let waypoint: Waypoint;
let wpLog: Array<Record<string, unknown>>;
const servers: http.Server[] = [];
const held: http.ServerResponse[] = [];
const hits = new Map<string, number>();
const copies: Seen[] = [];

function serve(ip: string, handler: http.RequestListener): Promise<void> {
  const s = http.createServer(handler);
  servers.push(s);
  return new Promise((r) => s.listen(8080, ip, () => r()));
}

function read(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let b = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => (b += c)).on("end", () => resolve(b));
  });
}

async function request(method: string, path: string, body?: string): Promise<{ status: number; body: string }> {
  const socket = await mesh.dial("127.0.51.10", { ip: "127.0.53.10", port: 80 });
  return new Promise((resolve, reject) => {
    const req = http.request({ createConnection: () => socket, method, path, headers: { host: "web.retry:80" } }, (res) => {
      let b = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (b += c));
      res.on("end", () => {
        socket.destroy();
        resolve({ status: res.statusCode ?? 0, body: b });
      });
    });
    req.on("error", reject);
    req.end(body);
  });
}

const until = async (pred: () => boolean, ms = 3000) => {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
};

beforeAll(async () => {
  // /flaky/<n>/<key>: 503 for the first n requests with that key, then 200.
  await serve("127.0.52.10", (req, res) => {
    void read(req).then((body) => {
      const [, , n, key] = (req.url ?? "").split("/");
      const seen = (hits.get(key ?? "") ?? 0) + 1;
      hits.set(key ?? "", seen);
      const fail = req.url?.startsWith("/flaky/") && seen <= Number(n);
      res.writeHead(fail ? 503 : 200, { "content-type": "text/plain" }).end(fail ? `fail ${seen}` : `ok ${seen} ${body}`);
    });
  });
  await serve("127.0.52.11", (req, res) => {
    void read(req).then((body) => {
      copies.push({ method: req.method ?? "", url: req.url ?? "", host: req.headers.host ?? "", body });
      res.writeHead(500).end("the mirror's answer goes nowhere");
    });
  });
  // A mirror that never answers: the client must not wait for it.
  await serve("127.0.52.12", (_req, res) => void held.push(res));
  mesh = await inProcessMesh({ nodes: ["node-1", "node-2"], config: BASE, logs: false });
  const { routes, notes } = translateHttpRoutes([parse(ROUTE) as HTTPRoute], DEFAULT_TRANSLATE_OPTIONS);
  expect(notes).toEqual([]);
  const store = new StateStore();
  store.replace({ ...toResources(parseLocalConfig(BASE)), routes });
  const m = memoryLogger("debug");
  wpLog = m.records;
  waypoint = await inProcessWaypoint(mesh, { host: "127.0.54.10", namespace: NS, state: store, accessLog: m.logger });
});

afterAll(async () => {
  for (const r of held) r.destroy();
  await waypoint?.stop();
  await mesh?.close();
  for (const s of servers) s.closeAllConnections();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
});

describe("HTTPRoute retry through a waypoint", () => {
  it("retries the listed status and answers with the attempt that succeeded; the access log says how many retries it took", async () => {
    const r = await request("GET", "/flaky/2/a");
    expect(r).toEqual({ status: 200, body: "ok 3 " });
    expect(hits.get("a")).toBe(3);
    await until(() => wpLog.some((l) => l.path === "/flaky/2/a"));
    expect(wpLog.find((l) => l.path === "/flaky/2/a")).toMatchObject({ code: 200, detail: "via_upstream (after 2 retries)", route: `${NS}/web` });
  });

  it("gives up after `attempts` retries: the client gets the last failure", async () => {
    const r = await request("GET", "/flaky/5/b");
    expect(r).toEqual({ status: 503, body: "fail 3" });
    expect(hits.get("b")).toBe(3);
  });

  it("a request with a body is sent once (its bytes are streamed, not kept for another attempt)", async () => {
    const r = await request("POST", "/flaky/1/c", "payload");
    expect(r.status).toBe(503);
    expect(hits.get("c")).toBe(1);
  });

  it("a route without retry passes a 503 straight through", async () => {
    const r = await request("GET", "/plain");
    expect(r.status).toBe(200);
  });
});

describe("HTTPRoute RequestMirror through a waypoint", () => {
  it("copies the request, body included, to the mirror with a -shadow Host; the client gets the real backend's answer and never waits for a mirror that does not answer", async () => {
    const before = held.length;
    const started = performance.now();
    const r = await request("POST", "/mirrored/x?q=1", "mirror me");
    expect(performance.now() - started).toBeLessThan(2000);
    expect(r.status).toBe(200);
    expect(r.body).toMatch(/^ok \d+ mirror me$/);
    await until(() => copies.some((c) => c.url === "/mirrored/x?q=1"));
    expect(copies.find((c) => c.url === "/mirrored/x?q=1")).toEqual({ method: "POST", url: "/mirrored/x?q=1", host: "web.retry-shadow:80", body: "mirror me" });
    await until(() => held.length === before + 1);
  });

  it("a large body reaches the real backend whole, and the mirror that reads it, while the mirror that never reads it holds nothing up", async () => {
    const big = "x".repeat(4 * 1024 * 1024);
    const r = await request("POST", "/mirrored/big", big);
    expect(r.status).toBe(200);
    expect(r.body.length).toBe(big.length + r.body.indexOf("x"));
    // The copy to `copy` (which reads) arrives whole; the one to `hole` was dropped at its lag bound.
    await until(() => copies.some((c) => c.url === "/mirrored/big"), 5000);
    expect(copies.find((c) => c.url === "/mirrored/big")!.body.length).toBe(big.length);
  });

  it("a copy that falls MIRROR_BODY_LAG behind the request body is cut off, never buffered further", async () => {
    const source = new PassThrough();
    const copy = teeBody(source);
    const failed = new Promise<Error>((r) => copy.once("error", r));
    source.resume(); // the real request reads on; the copy's reader reads nothing
    for (let i = 0; i < 64; i++) source.write(Buffer.alloc(16 * 1024));
    expect((await failed).message).toMatch(/fell behind/);
    expect(copy.destroyed).toBe(true);
    expect((copy as PassThrough).writableLength).toBeLessThanOrEqual(MIRROR_BODY_LAG + 16 * 1024);
    expect(source.listenerCount("data")).toBe(0);
  });

  it("marks copies as Envoy does: -shadow after the host, before the port", () => {
    expect(shadowAuthority("web.retry:80")).toBe("web.retry-shadow:80");
    expect(shadowAuthority("web")).toBe("web-shadow");
    expect(shadowAuthority("[fd00::1]")).toBe("[fd00::1]-shadow");
  });

  it("percent 0 mirrors nothing", async () => {
    await request("GET", "/never-mirrored");
    await new Promise((r) => setTimeout(r, 100));
    expect(copies.some((c) => c.url === "/never-mirrored")).toBe(false);
  });
});
