// HTTP/2 and gRPC through a waypoint between two in-process ztunnels (real sockets, mTLS, HBONE): a
// connect gRPC client calls the Echo sample (unary, server and bidirectional streams, errors) on a port
// declared grpc; L7 policy and HTTPRoute match gRPC methods as paths; an HTTP/2 client reaches an
// HTTP/1.1 service (the port declares http); a rude client breaking HTTP/2 gets the protocol's answer.
import http from "node:http";
import { readdirSync } from "node:fs";
import http2 from "node:http2";
import type net from "node:net";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { WebSocket, WebSocketServer } from "ws";
import { EchoRequestSchema, EchoService } from "../api/index.ts";
import type { SockAddr } from "../shared/index.ts";
import { memoryLogger } from "../shared/index.ts";
import {
  Flag,
  frame,
  FrameType,
  headerBlock,
  headersFrame,
  inProcessMesh,
  inProcessWaypoint,
  PREFACE,
  readFrames,
  settingsFrame,
  startGrpcEcho,
  type InProcessMesh,
} from "../testing/index.ts";
import { parseLocalConfig, toResources } from "../proxy/index.ts";
import { StateStore } from "../proxy/index.ts";
import type { Waypoint } from "./app.ts";

const WP = { hostname: "waypoint.demo.svc.cluster.local", namespace: "demo" };
const config = `
workloads:
  - { uid: u-sleep, name: sleep, namespace: demo, workloadIps: [127.0.1.10], serviceAccount: sleep, node: node-1 }
  - { uid: u-e1, name: echo-v1, namespace: demo, workloadIps: [127.0.2.20], serviceAccount: echo, node: node-2, services: { "demo/echo.demo.svc.cluster.local": { 9090: 9090 }, "demo/echo-v1.demo.svc.cluster.local": { 9090: 9090 } } }
  - { uid: u-e2, name: echo-v2, namespace: demo, workloadIps: [127.0.2.21], serviceAccount: echo, node: node-2, services: { "demo/echo-v2.demo.svc.cluster.local": { 9090: 9090 } } }
  - { uid: u-web, name: web, namespace: demo, workloadIps: [127.0.2.22], serviceAccount: web, node: node-2, services: { "demo/web.demo.svc.cluster.local": { 80: 8080 } } }
  - { uid: u-ws, name: chat, namespace: demo, workloadIps: [127.0.2.23], serviceAccount: chat, node: node-2, services: { "demo/chat.demo.svc.cluster.local": { 80: 8081 } } }
  - { uid: u-wp, name: waypoint, namespace: demo, workloadIps: [127.0.4.11], serviceAccount: waypoint, node: waypoint-node, services: { "demo/waypoint.demo.svc.cluster.local": { 15008: 15008 } } }
services:
  - { name: echo, namespace: demo, hostname: echo.demo.svc.cluster.local, vips: [127.0.3.30], ports: { 9090: 9090 }, appProtocols: { 9090: grpc }, waypoint: ${JSON.stringify(WP)} }
  - { name: echo-v1, namespace: demo, hostname: echo-v1.demo.svc.cluster.local, vips: [127.0.3.31], ports: { 9090: 9090 }, appProtocols: { 9090: grpc } }
  - { name: echo-v2, namespace: demo, hostname: echo-v2.demo.svc.cluster.local, vips: [127.0.3.32], ports: { 9090: 9090 }, appProtocols: { 9090: grpc } }
  - { name: web, namespace: demo, hostname: web.demo.svc.cluster.local, vips: [127.0.3.33], ports: { 80: 8080 }, appProtocols: { 80: http }, waypoint: ${JSON.stringify(WP)} }
  - { name: chat, namespace: demo, hostname: chat.demo.svc.cluster.local, vips: [127.0.3.34], ports: { 80: 8081 }, waypoint: ${JSON.stringify(WP)} }
  - { name: waypoint, namespace: demo, hostname: waypoint.demo.svc.cluster.local, vips: [127.0.3.40], ports: { 15008: 15008 } }
httpRoutes:
  - name: echo
    namespace: demo
    parents: [demo/echo.demo.svc.cluster.local]
    rules:
      - matches: [{ path: { type: PathPrefix, value: /ambientlab.v1.EchoService/EchoStream } }]
        backends: [{ service: demo/echo-v2.demo.svc.cluster.local, port: 9090 }]
      - backends: [{ service: demo/echo-v1.demo.svc.cluster.local, port: 9090 }]
l7Policies:
  - name: no-chat
    namespace: demo
    action: Deny
    targets: [{ kind: Service, namespace: demo, name: echo }]
    rules: [{ to: [{ paths: [/ambientlab.v1.EchoService/EchoChat] }] }]
  - name: no-admin-socket
    namespace: demo
    action: Deny
    targets: [{ kind: Service, namespace: demo, name: chat }]
    rules: [{ to: [{ paths: [/admin] }] }]
`;

const ECHO: SockAddr = { ip: "127.0.3.30", port: 9090 };
const WEB: SockAddr = { ip: "127.0.3.33", port: 80 };
const CHAT: SockAddr = { ip: "127.0.3.34", port: 80 };

let mesh: InProcessMesh;
let waypoint: Waypoint;
let wpLog: Array<Record<string, unknown>>;
const closers: Array<() => Promise<void>> = [];

/** A gRPC client whose one connection is a pod's, through its node's ztunnel (as capture would send it). */
async function echoClient(dst = ECHO) {
  const socket = await mesh.dial("127.0.1.10", dst);
  const transport = createGrpcTransport({ baseUrl: `http://echo.demo:${dst.port}`, nodeOptions: { createConnection: () => socket as net.Socket } });
  return { client: createClient(EchoService, transport), socket };
}

beforeAll(async () => {
  for (const [host, name] of [
    ["127.0.2.20", "echo-v1"],
    ["127.0.2.21", "echo-v2"],
  ] as const) {
    const s = await startGrpcEcho({ host, port: 9090, name });
    closers.push(() => s.close());
  }
  const web = http.createServer((req, res) => {
    req.resume();
    res.writeHead(200, { "content-type": "text/plain", "x-seen-version": req.httpVersion }).end(`web ${req.method} ${req.url}`);
  });
  await new Promise<void>((r) => web.listen(8080, "127.0.2.22", () => r()));
  closers.push(() => new Promise((r) => web.close(() => r())));
  const chat = new WebSocketServer({ host: "127.0.2.23", port: 8081 });
  chat.on("connection", (ws, req) => ws.on("message", (m) => ws.send(`echo ${req.url}: ${String(m)}`)));
  await new Promise<void>((r) => chat.once("listening", () => r()));
  closers.push(() => new Promise((r) => chat.close(() => r())));
  mesh = await inProcessMesh({ nodes: ["node-1", "node-2"], config, logs: true });
  const store = new StateStore();
  store.replace(toResources(parseLocalConfig(config)));
  const m = memoryLogger("debug");
  wpLog = m.records;
  waypoint = await inProcessWaypoint(mesh, { host: "127.0.4.11", namespace: "demo", state: store, accessLog: m.logger, sniffTimeoutMs: 500 });
});

afterAll(async () => {
  await waypoint?.stop();
  await mesh?.close();
  for (const c of closers) await c();
});

describe("waypoint: HTTP/2 and gRPC", () => {
  it("carries unary gRPC calls to a port declared grpc, with their statuses", async () => {
    const { client, socket } = await echoClient();
    try {
      const r = await client.echo({ message: "hello" });
      expect(r).toMatchObject({ message: "hello", servedBy: "echo-v1" });
      const failed = await client.echo({ message: "no such thing", failWith: Code.NotFound }).catch((e: unknown) => e);
      expect(failed).toBeInstanceOf(ConnectError);
      expect((failed as ConnectError).code).toBe(Code.NotFound);
      expect((failed as ConnectError).rawMessage).toBe("no such thing");
    } finally {
      socket.destroy();
    }
  });

  it("carries a server stream to the end, trailers included, and routes it by its method's path", async () => {
    const { client, socket } = await echoClient();
    try {
      const got: Array<{ servedBy: string; index: number }> = [];
      for await (const r of client.echoStream({ message: "tick", count: 5 })) got.push({ servedBy: r.servedBy, index: r.index });
      // The HTTPRoute sends EchoStream to v2.
      expect(got).toEqual([0, 1, 2, 3, 4].map((index) => ({ servedBy: "echo-v2", index })));
      // A stream that fails after its replies: the status arrives in the trailers, after the messages.
      const partial: number[] = [];
      const err = await (async () => {
        for await (const r of client.echoStream({ message: "gone", count: 2, failWith: Code.Unavailable })) partial.push(r.index);
      })().catch((e: unknown) => e);
      expect(partial).toEqual([0, 1]);
      expect((err as ConnectError).code).toBe(Code.Unavailable);
    } finally {
      socket.destroy();
    }
  });

  it("denies a gRPC method by path with PERMISSION_DENIED, as Envoy answers gRPC clients", async () => {
    const { client, socket } = await echoClient();
    try {
      async function* one() {
        yield create(EchoRequestSchema, { message: "hi" });
      }
      const err = await (async () => {
        for await (const _ of client.echoChat(one())) void _;
      })().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConnectError);
      expect((err as ConnectError).code).toBe(Code.PermissionDenied);
      expect((err as ConnectError).rawMessage).toBe("RBAC: access denied");
      expect(wpLog.some((r) => r.code === 403 && r.policy === "demo/no-chat" && r.grpc_status === "7")).toBe(true);
    } finally {
      socket.destroy();
    }
  });

  it("reports request_protocol=grpc and grpc_response_status in Istio's metrics", async () => {
    const text = await waypoint.metrics.registry.metrics();
    const lines = text.split("\n").filter((l) => l.startsWith("istio_requests_total{"));
    const ok = lines.find((l) => l.includes('destination_workload="echo-v1"') && l.includes('grpc_response_status="0"'));
    expect(ok).toContain('request_protocol="grpc"');
    expect(ok).toContain('response_code="200"');
    expect(lines.some((l) => l.includes('grpc_response_status="5"') && l.includes('request_protocol="grpc"'))).toBe(true);
    expect(lines.some((l) => l.includes('grpc_response_status="7"') && l.includes('response_code="403"'))).toBe(true);
  });

  it("takes HTTP/2 with prior knowledge from a client and speaks HTTP/1.1 to a port declared http", async () => {
    const socket = await mesh.dial("127.0.1.10", WEB);
    const session = http2.connect("http://web.demo", { createConnection: () => socket as net.Socket });
    try {
      const answer = await new Promise<{ status: number; version: string; body: string }>((resolve, reject) => {
        const s = session.request({ ":path": "/items?x=1", ":method": "GET" });
        let body = "";
        let head: http2.IncomingHttpHeaders = {};
        s.on("response", (h) => (head = h));
        s.setEncoding("utf8");
        s.on("data", (c: string) => (body += c));
        s.on("end", () => resolve({ status: Number(head[":status"]), version: String(head["x-seen-version"]), body }));
        s.on("error", reject);
      });
      expect(answer).toEqual({ status: 200, version: "1.1", body: "web GET /items?x=1" });
    } finally {
      session.destroy();
      socket.destroy();
    }
  });

  it("answers a client that breaks HTTP/2 with GOAWAY, and keeps serving", async () => {
    const socket = await mesh.dial("127.0.1.10", ECHO);
    const received: Buffer[] = [];
    socket.on("data", (c: Buffer) => received.push(c));
    const closed = new Promise<void>((r) => socket.once("close", () => r()));
    socket.on("error", () => undefined);
    // A HEADERS frame on stream 2 (even: a client may not open it) after a valid preface and SETTINGS.
    socket.write(
      Buffer.concat([
        PREFACE,
        frame(FrameType.SETTINGS, 0, 0),
        frame(
          FrameType.HEADERS,
          Flag.END_HEADERS | Flag.END_STREAM,
          2,
          headerBlock([
            [":method", "GET"],
            [":path", "/"],
            [":scheme", "http"],
            [":authority", "x"],
          ]),
        ),
      ]),
    );
    await closed;
    const all = Buffer.concat(received);
    // Somewhere in what came back: a GOAWAY frame (type 7) with PROTOCOL_ERROR (1).
    let goaway = -1;
    for (let at = 0; at + 9 <= all.length; at += 9 + all.readUIntBE(at, 3)) if (all[at + 3] === FrameType.GOAWAY) goaway = all.readUInt32BE(at + 13);
    expect(goaway).toBe(1);
    const { client, socket: s2 } = await echoClient();
    expect((await client.echo({ message: "still here" })).message).toBe("still here");
    s2.destroy();
  });

  it("passes a WebSocket through after policy, and refuses a denied one with 403", async () => {
    const open = async (path: string) => {
      const socket = await mesh.dial("127.0.1.10", CHAT);
      return new WebSocket(`ws://chat.demo${path}`, { createConnection: () => socket as net.Socket });
    };
    const ws = await open("/chat");
    const reply = await new Promise<string>((resolve, reject) => {
      ws.once("open", () => ws.send("hi"));
      ws.once("message", (m) => resolve(String(m)));
      ws.once("error", reject);
    });
    expect(reply).toBe("echo /chat: hi");
    ws.close();
    const denied = await open("/admin");
    const refusal = await new Promise<string>((resolve) => {
      denied.once("unexpected-response", (_req, res) => resolve(String(res.statusCode)));
      denied.once("error", (e) => resolve(e.message));
    });
    expect(refusal).toBe("403");
    const text = await waypoint.metrics.registry.metrics();
    expect(text).toMatch(/istio_requests_total\{[^}]*destination_service="chat\.demo\.svc\.cluster\.local"[^}]*response_code="101"/);
    expect(wpLog.some((r) => r.code === 403 && r.path === "/admin")).toBe(true);
  });

  it("speaks HTTP/2 to a port declared grpc when the client speaks HTTP/1.1 (a Connect-protocol JSON call)", async () => {
    const socket = await mesh.dial("127.0.1.10", ECHO);
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const body = JSON.stringify({ message: "over h1" });
      const req = http.request(
        {
          createConnection: () => socket as net.Socket,
          method: "POST",
          path: "/ambientlab.v1.EchoService/Echo",
          headers: { host: "echo.demo:9090", "content-type": "application/json", "content-length": Buffer.byteLength(body) },
        },
        (res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (c: string) => (text += c));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
        },
      );
      req.on("error", reject);
      req.end(body);
    });
    socket.destroy();
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ message: "over h1", servedBy: "echo-v1" });
  });

  it("bounds what a rude HTTP/2 client holds: huge headers, a stream flood, a stalled preface; fds return to baseline", async () => {
    const fds = () => readdirSync("/proc/self/fd").length;
    const warm = await echoClient();
    await warm.client.echo({ message: "warm" });
    warm.socket.destroy();
    await vi.waitFor(() => expect(waypoint.metrics.tunnelsOpen.get()).resolves.toMatchObject({ values: [{ value: 0 }] }));
    const baseline = fds();
    const req = [
      [":method", "POST"],
      [":path", "/ambientlab.v1.EchoService/Echo"],
      [":scheme", "http"],
      [":authority", "echo.demo"],
    ] as const;

    // 1. A 96 KiB header list (the limit is 60 KiB), split over HEADERS and CONTINUATION frames.
    const huge = await mesh.dial("127.0.1.10", ECHO);
    const hugeLog = readFrames(huge);
    const block = headerBlock([...req, ["x-big", "a".repeat(96 * 1024)]]);
    const parts = [];
    for (let at = 0; at < block.length; at += 16_384) parts.push(block.subarray(at, at + 16_384));
    huge.write(
      Buffer.concat([
        PREFACE,
        settingsFrame(),
        ...parts.map((p, i) => frame(i === 0 ? FrameType.HEADERS : FrameType.CONTINUATION, i === parts.length - 1 ? Flag.END_HEADERS : 0, 1, p)),
      ]),
    );
    // Refused: the stream reset or the connection told to go away; never forwarded.
    await vi.waitFor(() => expect(hugeLog.frames.some((f) => f.type === FrameType.RST_STREAM || f.type === FrameType.GOAWAY)).toBe(true));

    // 2. 1,200 streams opened at once on one connection (the limit is 1,000 concurrent), never finished.
    const flood = await mesh.dial("127.0.1.10", ECHO);
    const floodLog = readFrames(flood);
    const streams = Array.from({ length: 1200 }, (_, i) => headersFrame(2 * i + 1, req));
    flood.write(Buffer.concat([PREFACE, settingsFrame(), ...streams]));
    await vi.waitFor(() => expect(floodLog.frames.some((f) => f.type === FrameType.RST_STREAM || f.type === FrameType.GOAWAY)).toBe(true));

    // 3. Half a preface, then nothing: the tunnel is closed once the sniff times out.
    const stalled = await mesh.dial("127.0.1.10", ECHO);
    const stalledClosed = new Promise<void>((r) => stalled.once("close", () => r()));
    stalled.on("error", () => undefined);
    stalled.write(PREFACE.subarray(0, 10));
    await stalledClosed;

    for (const s of [huge, flood]) s.destroy();
    // The waypoint still serves, and everything the attacks held is given back.
    const after = await echoClient();
    expect((await after.client.echo({ message: "after" })).message).toBe("after");
    after.socket.destroy();
    await vi.waitFor(() => expect(waypoint.metrics.tunnelsOpen.get()).resolves.toMatchObject({ values: [{ value: 0 }] }), { timeout: 5000 });
    await vi.waitFor(() => expect(fds()).toBeLessThanOrEqual(baseline), { timeout: 5000 });
  });
});
