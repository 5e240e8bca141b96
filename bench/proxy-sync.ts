#!/usr/bin/env node
// A proxy's first sync on its own: the whole config of a synthetic cluster, as the control plane sends it
// (one DeltaDiscoveryResponseEncoded per type, joined), read by a fresh process with the ztunnel image's
// node flags (bench/proxy-sync-child.ts, which loads only what a proxy loads) and applied to a StateStore
// exactly as the config stream client does (HeldConfig). No sockets: what is left of the control-plane
// benchmark's "CPU per proxy" is TLS, HTTP/2 and gRPC framing.
// Prints, per run, the CPU and wall time of the sync and the heap it leaves; then the same sync again
// in the same process (warm), which separates the code's cost from V8 compiling it.
//   npm run bench:proxy-sync [-- --pods N --services N --policies N --runs N --startup-efficiency on|off]
// AL_SYNC_NODE_OPTIONS adds node flags to the sync processes, e.g. "--cpu-prof --cpu-prof-dir=DIR" to profile them.
import { spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { create, toBinary } from "@bufbuild/protobuf";
import { DeltaDiscoveryResponseEncodedSchema, joinResources, withJoinedResources, TYPE_ADDRESS, TYPE_AUTHORIZATION } from "../mesh/api/index.ts";
import { buildResources, translate, DEFAULT_TRANSLATE_OPTIONS, type ClusterSnapshot } from "../mesh/control-plane/index.ts";
import { scriptArgs } from "../mesh/shared/index.ts";
import { imageNodeFlags } from "./floor.ts";
import { syntheticCluster } from "./synthetic-cluster.ts";
import type { ChildRun } from "./proxy-sync-child.ts";

const USAGE = `Usage: npm run bench:proxy-sync [-- --pods N --services N --policies N --runs N --startup-efficiency on|off]
  one proxy's first sync of the whole config (defaults: 10000 pods, 2000 services, 500 policies, 5 runs),
  each run in a fresh process with the ztunnel image's node flags; prints CPU and wall time, cold and warm;
  the cold sync runs in V8's efficiency mode as ztunnel's first does (off: V8's defaults), the warm one in V8's defaults
`;

type Run = ChildRun;

async function main(): Promise<void> {
  const { values } = scriptArgs("bench:proxy-sync", USAGE, {
    options: {
      pods: { type: "string", default: "10000" },
      services: { type: "string", default: "2000" },
      policies: { type: "string", default: "500" },
      runs: { type: "string", default: "5" },
      "startup-efficiency": { type: "string", default: "on" },
    },
  });
  if (values["startup-efficiency"] !== "on" && values["startup-efficiency"] !== "off") {
    process.stderr.write(`bench:proxy-sync: --startup-efficiency takes on or off, not ${JSON.stringify(values["startup-efficiency"])}\n\n${USAGE}`);
    process.exit(2);
  }
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
          fileURLToPath(new URL("./proxy-sync-child.ts", import.meta.url)),
          file,
          ...(values["startup-efficiency"] === "off" ? ["--startup-efficiency=off"] : []),
        ],
        { encoding: "utf8" },
      );
      if (p.status !== 0) throw new Error(`the sync process failed (${p.status}): ${p.stderr}`);
      // The child's last line is its result; anything before it (node flags such as --trace-gc print to
      // stdout) is passed on.
      const lines = p.stdout.trimEnd().split("\n");
      const run = JSON.parse(lines.pop() ?? "") as Run;
      if (lines.length) process.stderr.write(`${lines.join("\n")}\n`);
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
