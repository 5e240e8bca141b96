#!/usr/bin/env node
// npm run bench:control-plane: translation time and memory for a synthetic cluster, the time from a
// change to all connected proxies ACKing it, and certificate signatures per second over gRPC.
// In-process on loopback; prints a table and writes results/control-plane-bench.{json,md}.
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { ControlPlane } from "../mesh/control-plane/app.ts";
import { BootstrapTokenAuthenticator } from "../mesh/control-plane/auth/authenticator.ts";
import { BootstrapTokens } from "../mesh/control-plane/auth/bootstrap-tokens.ts";
import { buildResources } from "../mesh/control-plane/push/snapshot.ts";
import { translate, DEFAULT_TRANSLATE_OPTIONS } from "../mesh/control-plane/translate/index.ts";
import type { ClusterSnapshot, V1Pod } from "../mesh/control-plane/model/kube.ts";
import { silentLogger } from "../mesh/shared/logging.ts";
import { createCsr, createRootCa } from "../mesh/shared/pki.ts";
import { GrpcCaClient } from "../mesh/ztunnel/identity/grpc-ca.ts";
import { controlPlaneTransport } from "../mesh/ztunnel/xds/transport.ts";
import { syntheticCluster } from "./synthetic-cluster.ts";

const { values } = parseArgs({
  options: {
    pods: { type: "string", default: "10000" },
    services: { type: "string", default: "2000" },
    policies: { type: "string", default: "500" },
    proxies: { type: "string", default: "10" },
    changes: { type: "string", default: "50" },
    csrs: { type: "string", default: "1000" },
    debounce: { type: "string", default: "10" },
  },
});
const size = { pods: Number(values.pods), services: Number(values.services), policies: Number(values.policies), namespaces: 100, nodes: 50 };
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const say = (s: string) => process.stderr.write(`[bench] ${s}\n`);
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)]!;
const r1 = (n: number) => Math.round(n * 10) / 10;

async function main(): Promise<void> {
  const rssStart = process.memoryUsage().rss;
  say(`synthetic cluster: ${size.pods} pods, ${size.services} services, ${size.policies} policies, ${size.nodes} nodes`);
  const objects = syntheticCluster(size);

  // 1. Full translation, warm: the median of five runs.
  const snap = objects as unknown as ClusterSnapshot;
  translate(snap);
  const times: number[] = [];
  const encodeTimes: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const t = translate(snap, DEFAULT_TRANSLATE_OPTIONS);
    times.push(performance.now() - t0);
    const t1 = performance.now();
    buildResources(t);
    encodeTimes.push(performance.now() - t1);
  }
  const translateMs = pct(times, 50);
  const encodeMs = pct(encodeTimes, 50);
  say(`full translation: ${r1(translateMs)} ms, encoding every resource from scratch: ${r1(encodeMs)} ms (medians of 5)`);

  // 2. A control plane with the cluster in its store, and N proxies on its config stream.
  const dir = await mkdtemp(join(os.tmpdir(), "al-cpbench-"));
  const ca = await createRootCa({ trustDomain: "cluster.local" });
  await writeFile(join(dir, "root.pem"), ca.rootPem);
  const tokens = new BootstrapTokens(join(dir, "tokens"));
  await tokens.ensure(Array.from({ length: size.nodes }, (_, i) => `node-${i}`));
  const cp = new ControlPlane({
    listen: { grpc: { ip: "127.0.0.1", port: 0 }, admin: { ip: "127.0.0.1", port: 0 } },
    translate: DEFAULT_TRANSLATE_OPTIONS,
    identity: { trustDomain: "cluster.local", namespace: "istio-system", serviceAccount: "istiod" },
    ca,
    auth: new BootstrapTokenAuthenticator(() => tokens.map()),
    log: silentLogger(),
    debounceMs: Number(values.debounce),
    discovery: () => [],
  });
  cp.store.replace(objects as never);
  await cp.start();
  const rssLoaded = process.memoryUsage().rss;
  const endpoint = (node: string) => ({ address: `https://127.0.0.1:${cp.addresses().grpc.port}`, rootCertFile: join(dir, "root.pem"), expectedIdentity: "spiffe://cluster.local/ns/istio-system/sa/istiod", tokenFile: tokens.path(node) });
  const nProxies = Number(values.proxies);
  const t0 = performance.now();
  const fleet = Array.from({ length: nProxies }, (_, i) =>
    spawn(process.execPath, [join(ROOT, "bench/proxy-fleet.ts"), `https://127.0.0.1:${cp.addresses().grpc.port}`, join(dir, "root.pem"), join(dir, "tokens"), "1", String(size.pods), String(i)], { stdio: ["ignore", "pipe", "inherit"] }),
  );
  await Promise.all(
    fleet.map(
      (p) =>
        new Promise<void>((resolve, reject) => {
          p.stdout.on("data", (d: Buffer) => d.toString().includes("synced") && resolve());
          p.once("exit", (code) => reject(new Error(`a proxy process exited with ${code}`)));
        }),
    ),
  );
  const initialSyncMs = performance.now() - t0;
  const proxies = cp.ads.connections();
  say(`${proxies.length} proxies (one process each) synced the full snapshot in ${Math.round(initialSyncMs)} ms`);

  // 3. Change -> all proxies ACK, one change at a time.
  const latencies: number[] = [];
  const buildLatencies: number[] = [];
  let changeAt = 0;
  cp.builder.subscribe(() => changeAt > 0 && buildLatencies.push(performance.now() - changeAt));
  for (let c = 0; c < Number(values.changes); c++) {
    const pod = structuredClone(objects.Pod[c]) as V1Pod;
    pod.metadata!.labels = { ...pod.metadata!.labels, version: `changed-${c}` };
    const acked = new Set<number>();
    const all = new Promise<number>((resolve) => {
      const off = cp.ads.onAck((conn, type, _v, latency) => {
        if (type.endsWith("Address")) acked.add(conn.id);
        if (acked.size === proxies.length) {
          off();
          resolve(latency);
        }
      });
    });
    changeAt = performance.now();
    cp.store.upsert("Pod", pod);
    latencies.push(await all);
  }
  const pushP50 = pct(latencies, 50);
  const pushP99 = pct(latencies, 99);
  say(`change -> all ${proxies.length} proxies ACKed: p50 ${r1(pushP50)} ms, p99 ${r1(pushP99)} ms (debounce ${values.debounce} ms)`);
  say(`  of which change -> new snapshot translated and encoded: p50 ${r1(pct(buildLatencies, 50))} ms, p99 ${r1(pct(buildLatencies, 99))} ms`);
  const rssPeak = process.memoryUsage().rss;

  // 4. Certificate signing throughput over gRPC, 16 requests in flight.
  const n = Number(values.csrs);
  const csrs = await Promise.all(Array.from({ length: n }, (_, i) => createCsr({ trustDomain: "cluster.local", namespace: `ns-${i % size.services % size.namespaces}`, serviceAccount: `sa-${(i % size.services) % 50}` }).then((c) => ({ i, ...c }))));
  const clients = Array.from({ length: size.nodes }, (_, i) => new GrpcCaClient(controlPlaneTransport(endpoint(`node-${i}`)), join(dir, "root.pem")));
  let next = 0;
  let signed = 0;
  let refused = 0;
  const s0 = performance.now();
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < n) {
        const c = csrs[next++]!;
        // The pod for this identity runs on node-(i % nodes) when i indexes the pod list directly.
        const node = `node-${c.i % size.nodes}`;
        const client = clients[c.i % size.nodes]!;
        const id = { trustDomain: "cluster.local", namespace: `ns-${(c.i % size.services) % size.namespaces}`, serviceAccount: `sa-${(c.i % size.services) % 50}` };
        try {
          await client.sign({ csrPem: c.csrPem, identity: id, ttlSeconds: 3600 });
          signed++;
        } catch {
          refused++;
          void node;
        }
      }
    }),
  );
  const csrPerSec = signed / ((performance.now() - s0) / 1000);
  say(`signed ${signed} certificates (${refused} refused) at ${Math.round(csrPerSec)}/s`);

  for (const p of fleet) p.kill("SIGTERM");
  await cp.stop(100);
  await rm(dir, { recursive: true, force: true });

  const result = {
    machine: { cpus: os.cpus().length, node: process.versions.node, date: new Date().toISOString().slice(0, 10) },
    size,
    translateMs: r1(translateMs),
    encodeAllMs: r1(encodeMs),
    rssMb: { start: Math.round(rssStart / 1e6), loaded: Math.round(rssLoaded / 1e6), peak: Math.round(rssPeak / 1e6) },
    proxies: proxies.length,
    initialSyncMs: Math.round(initialSyncMs),
    debounceMs: Number(values.debounce),
    pushToAckMs: { p50: r1(pushP50), p99: r1(pushP99), samples: latencies.length },
    changeToSnapshotMs: { p50: r1(pct(buildLatencies, 50)), p99: r1(pct(buildLatencies, 99)) },
    certificates: { signed, refused, perSecond: Math.round(csrPerSec) },
  };
  const md = [
    `# control plane benchmark`,
    ``,
    `${size.pods} pods, ${size.services} services, ${size.policies} policies on ${size.nodes} nodes; ${result.proxies} proxies; ${result.machine.cpus} CPUs, Node ${result.machine.node}, ${result.machine.date}.`,
    ``,
    `| measure | value | target |`,
    `|---|---|---|`,
    `| full translation | ${result.translateMs} ms | < 500 ms |`,
    `| encoding every resource from scratch (first push; later pushes re-encode only what changed) | ${result.encodeAllMs} ms | |`,
    `| RSS with the cluster loaded / peak | ${result.rssMb.loaded} / ${result.rssMb.peak} MB | < 250 MB |`,
    `| change -> all proxies ACKed, p50 / p99 | ${result.pushToAckMs.p50} / ${result.pushToAckMs.p99} ms (debounce ${result.debounceMs} ms) | p99 < 100 ms |`,
    `| of which change -> snapshot translated and encoded, p50 / p99 | ${result.changeToSnapshotMs.p50} / ${result.changeToSnapshotMs.p99} ms | |`,
    `| certificates signed per second (gRPC, 16 in flight) | ${result.certificates.perSecond} | >= 500 |`,
    `| initial full sync of ${result.proxies} proxies | ${result.initialSyncMs} ms | |`,
    ``,
  ].join("\n");
  const out = join(ROOT, "results");
  await mkdir(out, { recursive: true });
  await writeFile(join(out, "control-plane-bench.json"), JSON.stringify(result, null, 2) + "\n");
  await writeFile(join(out, "control-plane-bench.md"), md);
  process.stdout.write(md);
}

main().catch((err) => {
  process.stderr.write(`bench:control-plane failed: ${(err as Error).stack ?? err}\n`);
  process.exitCode = 1;
});
