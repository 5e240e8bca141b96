#!/usr/bin/env node
// A proxy's first sync on its own: the whole config of a synthetic cluster, as the control plane sends it
// (one DeltaDiscoveryResponseEncoded per type, joined), read by a fresh process with the ztunnel image's
// node flags and applied to a StateStore exactly as the config stream client does (HeldConfig). No
// sockets: what is left of the control-plane benchmark's "CPU per proxy" is TLS, HTTP/2 and gRPC framing.
// Prints, per run, the CPU and wall time of the sync and the heap it leaves; then the same sync again
// in the same process (warm), which separates the code's cost from V8 compiling it.
//   npm run bench:proxy-sync [-- --pods N --services N --policies N --runs N]
// AL_SYNC_NODE_OPTIONS adds node flags to the sync processes, e.g. "--cpu-prof --cpu-prof-dir=DIR" to profile them.
import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import v8 from "node:v8";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { DeltaDiscoveryResponseEncodedSchema, joinResources, withJoinedResources, TYPE_ADDRESS, TYPE_AUTHORIZATION } from "../mesh/api/index.ts";
import { buildResources, translate, DEFAULT_TRANSLATE_OPTIONS, type ClusterSnapshot } from "../mesh/control-plane/index.ts";
import { HeldConfig, StateStore, ZTUNNEL_TYPES } from "../mesh/proxy/index.ts";
import { scriptArgs } from "../mesh/shared/index.ts";
import { imageNodeFlags } from "./floor.ts";
import { syntheticCluster } from "./synthetic-cluster.ts";

const USAGE = `Usage: npm run bench:proxy-sync [-- --pods N --services N --policies N --runs N]
  one proxy's first sync of the whole config (defaults: 10000 pods, 2000 services, 500 policies, 5 runs),
  each run in a fresh process with the ztunnel image's node flags; prints CPU and wall time, cold and warm
`;

interface Run {
  /** Collections during the cold sync, and their total pause. */
  gcs: number;
  gcMs: number;
  coldCpuMs: number;
  coldWallMs: number;
  warmCpuMs: number;
  heapMb: number;
  workloads: number;
}

/** Child: apply the responses in `file` (length-prefixed) twice, print one JSON line. */
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
    const held = new HeldConfig(ZTUNNEL_TYPES, store);
    const cpu = process.cpuUsage();
    const t0 = performance.now();
    for (const r of responses) {
      const errors = held.apply(fromBinary(DeltaDiscoveryResponseEncodedSchema, r));
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
  const run: Run = {
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

async function main(): Promise<void> {
  const { values } = scriptArgs("bench:proxy-sync", USAGE, {
    options: {
      pods: { type: "string", default: "10000" },
      services: { type: "string", default: "2000" },
      policies: { type: "string", default: "500" },
      runs: { type: "string", default: "5" },
      child: { type: "string" },
    },
  });
  if (values.child) return child(values.child);
  const size = { pods: Number(values.pods), services: Number(values.services), policies: Number(values.policies), namespaces: 100, nodes: 50 };
  const t = translate(syntheticCluster(size) as unknown as ClusterSnapshot, DEFAULT_TRANSLATE_OPTIONS);
  const types = buildResources(t);
  const framed: Uint8Array[] = [];
  let resources = 0;
  for (const type of [TYPE_ADDRESS, TYPE_AUTHORIZATION]) {
    const list = [...(types.get(type)?.values() ?? [])];
    resources += list.length;
    const resp = withJoinedResources(
      create(DeltaDiscoveryResponseEncodedSchema, { systemVersionInfo: "1", typeUrl: type, nonce: "1" }),
      joinResources(list.map((r) => r.encoded)),
    );
    const body = toBinary(DeltaDiscoveryResponseEncodedSchema, resp);
    const head = new Uint8Array(4);
    new DataView(head.buffer).setUint32(0, body.length);
    framed.push(head, body);
  }
  const dir = await mkdtemp(join(os.tmpdir(), "al-proxy-sync-"));
  try {
    const file = join(dir, "responses.bin");
    await writeFile(file, Buffer.concat(framed));
    const bytes = framed.reduce((n, b) => n + b.length, 0);
    process.stderr.write(`[bench] ${resources} resources, ${(bytes / 2 ** 20).toFixed(1)} MB; node ${imageNodeFlags("ztunnel").join(" ")}\n`);
    const runs: Run[] = [];
    for (let i = 0; i < Number(values.runs); i++) {
      const p = spawnSync(
        process.execPath,
        [
          ...imageNodeFlags("ztunnel"),
          ...(process.env.AL_SYNC_NODE_OPTIONS?.split(" ").filter(Boolean) ?? []),
          fileURLToPath(import.meta.url),
          "--child",
          file,
        ],
        { encoding: "utf8" },
      );
      if (p.status !== 0) throw new Error(`the sync process failed (${p.status}): ${p.stderr}`);
      const run = JSON.parse(p.stdout) as Run;
      if (run.workloads !== size.pods) throw new Error(`the sync held ${run.workloads} workloads, not ${size.pods}`);
      runs.push(run);
      process.stderr.write(
        `[bench] run ${i + 1}: cold ${run.coldCpuMs.toFixed(0)} ms CPU (${run.coldWallMs.toFixed(0)} ms wall), warm ${run.warmCpuMs.toFixed(0)} ms CPU, heap ${run.heapMb.toFixed(0)} MB; ${run.gcs} collections, ${run.gcMs.toFixed(0)} ms\n`,
      );
    }
    const med = (f: (r: Run) => number) => runs.map(f).sort((a, b) => a - b)[Math.floor(runs.length / 2)]!;
    process.stdout.write(
      `${JSON.stringify({ resources, bytes, coldCpuMs: Math.round(med((r) => r.coldCpuMs)), coldWallMs: Math.round(med((r) => r.coldWallMs)), warmCpuMs: Math.round(med((r) => r.warmCpuMs)), heapMb: Math.round(med((r) => r.heapMb)), gcs: med((r) => r.gcs), gcMs: Math.round(med((r) => r.gcMs)) })}\n`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
