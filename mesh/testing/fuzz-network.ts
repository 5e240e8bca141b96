// Fuzzing over real sockets: arbitrary HTTP/2 frames on an authenticated HBONE session to a ztunnel and
// to a waypoint, arbitrary bytes as HTTP/1.1 inside a tunnel through a waypoint, and arbitrary HTTP/2
// frames after the preface inside a tunnel through the waypoint (its h2c front end). Both proxies must
// survive every input, and after each target their fds, connections and tunnels must be back to baseline.
import http from "node:http";
import type net from "node:net";
import tls from "node:tls";
import fc from "fast-check";
import { silentLogger } from "../shared/index.ts";
import { CertManager } from "../proxy/index.ts";
import { FileCaClient } from "../proxy/index.ts";
import { parseLocalConfig, toResources } from "../proxy/index.ts";
import { StateStore } from "../proxy/index.ts";
import { echoServer, roundTrip, type TestServer } from "./echo.ts";
import type { FuzzTarget } from "./fuzz-targets.ts";
import { connectHeaders, frame, headerBlock, PREFACE, settingsFrame } from "./h2-raw.ts";
import { inProcessMesh, type InProcessMesh } from "./inprocess.ts";
import { inProcessWaypoint } from "./inprocess-waypoint.ts";
import { fdCount, sleep, waitFor } from "./wait.ts";

const SLEEP = "127.0.41.10";
const ECHO = { ip: "127.0.42.10", port: 7071 };
const WEB = { ip: "127.0.43.10", port: 80 };
const WAYPOINT_IP = "127.0.44.10";
const WP = { hostname: "waypoint.demo.svc.cluster.local", namespace: "demo" };
const CONFIG = `
workloads:
  - { uid: u-sleep, name: sleep, namespace: demo, workloadIps: [${SLEEP}], serviceAccount: sleep, node: node-1 }
  - { uid: u-echo, name: echo, namespace: demo, workloadIps: [${ECHO.ip}], serviceAccount: echo, node: node-2, services: { "demo/web.demo.svc.cluster.local": { 80: 8080 } } }
  - { uid: u-wp, name: waypoint, namespace: demo, workloadIps: [127.0.44.10], serviceAccount: waypoint, node: waypoint-node, services: { "demo/waypoint.demo.svc.cluster.local": { 15008: 15008 } } }
services:
  - { name: web, namespace: demo, hostname: web.demo.svc.cluster.local, vips: [${WEB.ip}], ports: { 80: 8080 }, appProtocols: { 80: http }, waypoint: ${JSON.stringify(WP)} }
  - { name: waypoint, namespace: demo, hostname: waypoint.demo.svc.cluster.local, vips: [127.0.43.20], ports: { 15008: 15008 } }
httpRoutes:
  - { name: web, namespace: demo, parents: [demo/web.demo.svc.cluster.local], rules: [{ matches: [{ path: { type: PathPrefix, value: /x } }], backends: [{ service: demo/web.demo.svc.cluster.local, port: 80 }], requestHeaders: { set: { x-a: b }, remove: [x-r] } }, { backends: [{ service: demo/web.demo.svc.cluster.local, port: 80 }] }] }
`;

export interface NetworkFuzz {
  targets: FuzzTarget[];
  /** Open fds, tracked connections and readiness are back to where they were after setup. */
  checkBaseline(): Promise<void>;
  close(): Promise<void>;
}

export async function networkFuzz(): Promise<NetworkFuzz> {
  const echo: TestServer = await echoServer(ECHO.ip, ECHO.port);
  const app = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => res.end("ok"));
  });
  await new Promise<void>((r) => app.listen(8080, ECHO.ip, () => r()));
  const mesh: InProcessMesh = await inProcessMesh({ nodes: ["node-1", "node-2"], config: CONFIG, tuning: { handshakeTimeoutMs: 2000 } });
  const store = new StateStore();
  store.replace(toResources(parseLocalConfig(CONFIG)));
  const waypoint = await inProcessWaypoint(mesh, { host: WAYPOINT_IP, namespace: "demo", state: store });
  await waitFor(() => waypoint.readiness.ready, 5000);
  const certs = new CertManager({ ca: FileCaClient.fromMaterial(mesh.ca), ttlSeconds: 3600, log: silentLogger() });
  const sleepCert = await certs.get({ trustDomain: "cluster.local", namespace: "demo", serviceAccount: "sleep" });

  const serves = async () => (await roundTrip(await mesh.dial(SLEEP, ECHO), "ping", 3000)).toString() === "ping";
  /** One HTTP request through the waypoint (no half-close: HTTP clients do not send FIN before the answer). */
  const throughWaypoint = async (): Promise<string> => {
    const s = await mesh.dial(SLEEP, WEB);
    return new Promise((resolve) => {
      let got = "";
      const timer = setTimeout(() => s.destroy(), 3000);
      s.on("error", () => undefined);
      s.on("data", (c: Buffer) => (got += c.toString("latin1")));
      s.once("close", () => {
        clearTimeout(timer);
        resolve(got);
      });
      s.write("GET / HTTP/1.1\r\nhost: web\r\nconnection: close\r\n\r\n");
    });
  };
  // Warm-up: certificates issued and pooled connections open (ztunnel to ztunnel, ztunnel to waypoint,
  // waypoint to ztunnel) before the baseline is taken: pooled connections are meant to stay.
  await serves();
  await throughWaypoint();
  await sleep(100);
  const baseline = fdCount();

  /** Sends `data`, then waits until the peer closes or `ms` passes, and lets go. */
  const exchange = (s: net.Socket, data: Buffer, ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        s.destroy();
        resolve();
      }, ms);
      s.on("error", () => undefined);
      s.on("data", () => undefined);
      s.once("close", () => {
        clearTimeout(timer);
        resolve();
      });
      s.write(data);
    });

  const frameArb = fc.record({
    type: fc.integer({ min: 0, max: 12 }),
    flags: fc.integer({ min: 0, max: 255 }),
    streamId: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 0, max: 0x7fffffff })),
    payload: fc.uint8Array({ maxLength: 48 }),
  });
  /** Arbitrary frames on an authenticated HBONE session to `server`'s 15008; null is a valid CONNECT to `to`. */
  const hboneFrames = (name: string, server: string, to: string): FuzzTarget => ({
    name,
    run: async (runs, seed) =>
      fc.assert(
        fc.asyncProperty(
          fc.array(
            fc.oneof(
              frameArb.map((f) => frame(f.type, f.flags, f.streamId, Buffer.from(f.payload))),
              fc.constant(null),
            ),
            { maxLength: 8 },
          ),
          async (frames) => {
            const raw = await mesh.network.connect({ ip: server, port: 15008 }, 2000, false);
            raw.on("error", () => undefined);
            const s = tls.connect({ socket: raw, secureContext: sleepCert.context, ALPNProtocols: ["h2"], rejectUnauthorized: false });
            s.on("error", () => undefined);
            await new Promise<void>((r) => {
              s.once("secureConnect", () => r());
              s.once("close", () => r());
            });
            // null stands for a well-formed CONNECT, so streams get past the first checks.
            const body = frames.map((f, i) => f ?? frame(1, 0x4, 1 + 2 * i, headerBlock(connectHeaders(to))));
            await exchange(s, Buffer.concat([PREFACE, settingsFrame(), ...body]), 30);
            raw.destroy();
          },
        ),
        { numRuns: runs, ...(seed !== undefined ? { seed } : {}) },
      ),
  });
  const hbone = hboneFrames("HBONE frames (HTTP/2 after an mTLS handshake)", ECHO.ip, `${ECHO.ip}:${ECHO.port}`);
  const waypointHbone = hboneFrames("HBONE frames to the waypoint (HTTP/2 after an mTLS handshake)", WAYPOINT_IP, `${WEB.ip}:${WEB.port}`);

  const VALID = "GET /x/y HTTP/1.1\r\nhost: web\r\nx-r: 1\r\ncontent-length: 3\r\n\r\nabc";
  const httpArb = fc.oneof(
    fc.array(fc.tuple(fc.nat(VALID.length), fc.nat(4), fc.string({ unit: "binary", maxLength: 6 })), { maxLength: 5 }).map((edits) => {
      let t = VALID;
      for (const [at, del, ins] of edits) t = t.slice(0, at % (t.length + 1)) + ins + t.slice((at % (t.length + 1)) + del);
      return Buffer.from(t, "latin1");
    }),
    fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
  );
  const waypointHttp: FuzzTarget = {
    name: "HTTP/1.1 through the waypoint",
    run: async (runs, seed) =>
      fc.assert(
        fc.asyncProperty(httpArb, async (bytes) => {
          const s = await mesh.dial(SLEEP, WEB);
          await exchange(s, bytes, 60);
        }),
        { numRuns: runs, ...(seed !== undefined ? { seed } : {}) },
      ),
  };

  const waypointH2: FuzzTarget = {
    name: "HTTP/2 frames through the waypoint",
    run: async (runs, seed) =>
      fc.assert(
        fc.asyncProperty(
          fc.array(
            fc.oneof(
              frameArb.map((f) => frame(f.type, f.flags, f.streamId, Buffer.from(f.payload))),
              fc.constant(null),
            ),
            { maxLength: 8 },
          ),
          async (frames) => {
            const s = await mesh.dial(SLEEP, WEB);
            // null stands for a well-formed GET, so streams reach routing and the upstream.
            const get = headerBlock([
              [":method", "GET"],
              [":path", "/x"],
              [":scheme", "http"],
              [":authority", "web"],
            ]);
            const body = frames.map((f, i) => f ?? frame(1, 0x5, 1 + 2 * i, get));
            await exchange(s, Buffer.concat([PREFACE, settingsFrame(), ...body]), 60);
          },
        ),
        { numRuns: runs, ...(seed !== undefined ? { seed } : {}) },
      ),
  };

  return {
    targets: [hbone, waypointHbone, waypointHttp, waypointH2],
    async checkBaseline() {
      const z2 = mesh.ztunnel("node-2");
      let tunnels = 0;
      const quiet = await waitFor(
        async () => {
          tunnels = (await waypoint.metrics.tunnelsOpen.get()).values[0]?.value ?? 0;
          return z2.ctx.tracker.size === 0 && mesh.ztunnel("node-1").ctx.tracker.size === 0 && fdCount() <= baseline && tunnels === 0;
        },
        15_000,
        100,
      );
      if (!quiet)
        throw new Error(
          `not back to baseline: ${fdCount()} fds (baseline ${baseline}), ${z2.ctx.tracker.size} + ${mesh.ztunnel("node-1").ctx.tracker.size} connections tracked, ${tunnels} waypoint tunnels open`,
        );
      if (!z2.readiness.ready || !waypoint.readiness.ready) throw new Error("a proxy is no longer ready");
      if (!(await serves())) throw new Error("the ztunnels no longer relay");
      const r = await throughWaypoint();
      if (!r.startsWith("HTTP/1.1 200")) throw new Error(`the waypoint no longer answers: ${r.slice(0, 80)}`);
    },
    async close() {
      certs.close();
      await waypoint.stop();
      await mesh.close();
      await echo.close();
      await new Promise((r) => app.close(r));
    },
  };
}
