#!/usr/bin/env node
// The process bench/proxy-sync.ts measures: it loads only what a proxy loads for its config stream (the
// API's wire readers and the proxy core, as bench/proxy-fleet.ts does), applies the responses in FILE
// (each a 4-byte length and a DeltaDiscoveryResponseEncoded) to a fresh StateStore the way the config
// stream client does (HeldConfig), twice, and prints one JSON line: the first (cold) sync's CPU, wall time,
// collections and the heap it leaves, and the second (warm) sync's CPU. When this ran inside the
// benchmark's own script it also loaded the control plane's translation, and the first sync paid a major
// collection of that 25 MB of module garbage, which no proxy has. Like ztunnel, it runs V8 in efficiency
// mode from its start until the first sync's store holds its config (mesh/proxy/startup-efficiency.ts), so
// the warm sync runs with V8's defaults; --startup-efficiency=off keeps the defaults throughout.
//   node bench/proxy-sync-child.ts FILE [--startup-efficiency=off]
import { readFile } from "node:fs/promises";
import v8 from "node:v8";
import { StartupEfficiency } from "../mesh/proxy/startup-efficiency.ts";

// As ztunnel's main.ts: the mode first, then the proxy's modules are loaded.
const startup = StartupEfficiency.begin(!process.argv.includes("--startup-efficiency=off"));
const { configResponseFromBinary } = await import("../mesh/api/index.ts");
const { HeldConfig, StateStore, ZTUNNEL_TYPES } = await import("../mesh/proxy/index.ts");

export interface ChildRun {
  /** Collections during the cold sync, and their total pause. */
  gcs: number;
  gcMs: number;
  coldCpuMs: number;
  coldWallMs: number;
  warmCpuMs: number;
  heapMb: number;
  workloads: number;
}

async function child(file: string): Promise<void> {
  const bytes = new Uint8Array(await readFile(file));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const responses: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; ) {
    const n = view.getUint32(at);
    responses.push(bytes.subarray(at + 4, at + 4 + n));
    at += 4 + n;
  }
  const sync = () => {
    const store = new StateStore();
    startup.endWhenConfigured([store]);
    const held = new HeldConfig(ZTUNNEL_TYPES, store);
    const cpu = process.cpuUsage();
    const t0 = performance.now();
    for (const r of responses) {
      const errors = held.apply(configResponseFromBinary(r));
      if (Object.keys(errors).length) throw new Error(`rejected: ${JSON.stringify(errors).slice(0, 300)}`);
    }
    const used = process.cpuUsage(cpu);
    return { cpuMs: (used.user + used.system) / 1000, wallMs: performance.now() - t0, store };
  };
  const profiler = new v8.GCProfiler();
  profiler.start();
  const cold = sync();
  const stats = profiler.stop()?.statistics ?? [];
  // `cost` is in microseconds.
  const gc = { count: stats.length, ms: stats.reduce((n, s) => n + s.cost, 0) / 1000 };
  const heapMb = process.memoryUsage().heapUsed / 2 ** 20;
  const warm = sync();
  const run: ChildRun = {
    gcs: gc.count,
    gcMs: gc.ms,
    coldCpuMs: cold.cpuMs,
    coldWallMs: cold.wallMs,
    warmCpuMs: warm.cpuMs,
    heapMb,
    workloads: cold.store.current.workloads.length,
  };
  process.stdout.write(`${JSON.stringify(run)}\n`);
}

const file = process.argv.slice(2).find((a) => !a.startsWith("--"));
if (!file) {
  process.stderr.write("usage: proxy-sync-child.ts FILE (run by bench/proxy-sync.ts)\n");
  process.exit(2);
}
await child(file);
