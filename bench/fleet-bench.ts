#!/usr/bin/env node
// npm run bench:fleet: what the mesh costs per application pod as pods per node grow, in ambient mode
// (one ztunnel per node) and sidecar mode (one proxy per pod). For each pod count N and each mode, a
// fresh netns cluster of that mode alone (so no process of the other mode shares pages with the measured
// ones) with N nginx pods on node-2 behind one Service and a client on node-1; measured: the proxies' memory on node-2 idle (RSS, and PSS, which splits the pages
// Node processes share), their CPU (both nodes) under the scenario's load, and the time one more pod
// takes, added to the running cluster, until its application answers through the mesh.
// Reads bench/scenarios/fleet.yaml, prints progress, writes results/fleet-bench.{json,md}.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { parse } from "yaml";
import { z } from "zod";
import { LocalCluster, nginxApp, PROC, processName, type ClusterPod, type ClusterSpec } from "../mesh/local/index.ts";
import { cpuPer1000Requests, cpuSeconds, memoryMb, pssMb, runLoad, type LoadResult } from "../mesh/measure/index.ts";
import { scriptArgs } from "../mesh/shared/index.ts";
import { bundle } from "../mesh/build.ts";
import { benchMachine, requireLocalCluster, ROOT, runMain, sayAs, writeResults } from "./harness.ts";
import { renderFleetJson, renderFleetMarkdown, type FleetBenchResult, type FleetMode, type FleetPoint } from "./fleet-report.ts";

const say = sayAs("fleet");

const scenarioSchema = z.strictObject({
  name: z.string(),
  podCounts: z.array(z.number().int().min(1).max(60)).min(1),
  rate: z.number().positive(),
  connections: z.number().int().positive(),
  durationSeconds: z.number().positive(),
  warmupSeconds: z.number().min(0),
  payloadBytes: z.number().int().min(0),
  /** Idle time after the cluster is up, before idle memory is read. */
  settleSeconds: z.number().min(0),
});
type Scenario = z.infer<typeof scenarioSchema>;

const USAGE = `Usage: sudo npm run bench:fleet [-- SCENARIO.yaml] [--counts 2,5,10]
  N application pods per node in ambient and in sidecar mode, for each N of the scenario's podCounts
  (default bench/scenarios/fleet.yaml); prints a table and writes results/fleet-bench.{json,md}. Needs root.
  --counts LIST   the pod counts to measure instead of the scenario's (comma-separated, 1..60)`;

const NS: Record<FleetMode, string> = { ambient: "amb", sidecar: "sc" };

async function fleetSpec(n: number, mode: FleetMode, s: Scenario, workDir: string): Promise<ClusterSpec> {
  for (const program of ["control-plane", "ztunnel", "waypoint"] as const) await bundle(program);
  const pods: ClusterPod[] = [];
  {
    const ns = NS[mode];
    const inMesh = mode === "ambient" ? { ambient: true } : { ambient: false, sidecar: true };
    pods.push({ namespace: ns, name: "client", node: "node-1", serviceAccount: "client", ...inMesh });
    for (let i = 0; i < n; i++) {
      pods.push({
        namespace: ns,
        name: `app-${i}`,
        node: "node-2",
        serviceAccount: "app",
        ...inMesh,
        app: await nginxApp(join(workDir, `${ns}-${i}`), 8080, s.payloadBytes),
      });
    }
  }
  return {
    prefix: `al-f${randomBytes(2).toString("hex")}`,
    nodes: ["node-1", "node-2"],
    workDir,
    bundles: true,
    pods,
    services: [
      { namespace: NS[mode], name: "app", selector: Array.from({ length: n }, (_, i) => `app-${i}`), ports: [{ port: 8080, targetPort: 8080, name: "http" }] },
    ],
  };
}

/** The pids of the mesh's proxies for `mode`: on node-2 (the measured node) and on both nodes. */
function proxyPids(cluster: LocalCluster, mode: FleetMode, n: number): { node2: number[]; all: number[] } {
  const pid = (name: string) => {
    const p = cluster.processes.get(name);
    if (!p) throw new Error(`${name} is not running`);
    return p.pid;
  };
  if (mode === "ambient") {
    const z2 = pid(processName(PROC.ztunnel("node-2")));
    return { node2: [z2], all: [pid(processName(PROC.ztunnel("node-1"))), z2] };
  }
  const servers = Array.from({ length: n }, (_, i) => pid(processName(PROC.sidecar(`${NS.sidecar}/app-${i}`))));
  return { node2: servers, all: [pid(processName(PROC.sidecar(`${NS.sidecar}/client`))), ...servers] };
}

async function memory(pids: number[]): Promise<{ rssMb: number; pssMb: number }> {
  let rss = 0;
  let pss = 0;
  for (const p of pids) {
    rss += (await memoryMb(p)).current;
    pss += await pssMb(p);
  }
  return { rssMb: rss, pssMb: pss };
}

/** One more pod of `mode` added to the running cluster; ms until the client gets a 200 from it. */
async function startToReady(cluster: LocalCluster, mode: FleetMode, s: Scenario): Promise<number> {
  const ns = NS[mode];
  const spec = cluster.spec;
  const extra: ClusterPod = {
    namespace: ns,
    name: "extra",
    node: "node-2",
    serviceAccount: "app",
    ...(mode === "ambient" ? { ambient: true } : { ambient: false, sidecar: true }),
    app: await nginxApp(join(spec.workDir, `${ns}-extra`), 8080, s.payloadBytes),
    slot: spec.pods.filter((p) => p.node === "node-2").length,
    userIndex: spec.pods.length,
    applied: `Pod/${ns}/extra`,
  };
  const started = performance.now();
  await cluster.reconcile({ ...spec, pods: [...spec.pods, extra] });
  const url = `http://${cluster.pod(`${ns}/extra`).ip}:8080/`;
  for (;;) {
    const r = await cluster.exec(`${ns}/client`, "curl", ["-s", "-o", "/dev/null", "-m", "1", "-w", "%{http_code}", url]);
    if (r.stdout === "200") return performance.now() - started;
    if (performance.now() - started > 30_000) throw new Error(`${ns}/extra did not answer within 30 s (last: ${r.stdout || r.stderr})`);
    await new Promise((res) => setTimeout(res, 20));
  }
}

async function measure(n: number, mode: FleetMode, s: Scenario): Promise<FleetPoint> {
  const workDir = await mkdtemp(join(os.tmpdir(), "al-fleet-"));
  const cluster = new LocalCluster(await fleetSpec(n, mode, s, workDir));
  const stop = async () => {
    await cluster.down();
    await rm(workDir, { recursive: true, force: true });
  };
  const onInt = () => void stop().then(() => process.exit(130));
  process.once("SIGINT", onInt);
  try {
    say(`${mode}, ${n} pods: building the cluster (${cluster.spec.prefix}${mode === "sidecar" ? `, ${n + 1} sidecars` : ""})`);
    const t0 = performance.now();
    await cluster.up();
    say(`  up in ${((performance.now() - t0) / 1000).toFixed(1)} s; idle for ${s.settleSeconds} s`);
    await new Promise((r) => setTimeout(r, s.settleSeconds * 1000));
    const pids = proxyPids(cluster, mode, n);
    const idle = await memory(pids.node2);
    say(`  ${s.rate} req/s for ${s.warmupSeconds}+${s.durationSeconds} s`);
    const before = await Promise.all(pids.all.map((p) => cpuSeconds(p)));
    const load: LoadResult = await runLoad(cluster, `${NS[mode]}/client`, `http://${cluster.service(`${NS[mode]}/app`).vip}:8080/`, s);
    const after = await Promise.all(pids.all.map((p) => cpuSeconds(p)));
    const cpu = after.reduce((t, a, i) => t + a - before[i]!, 0);
    const loadedMem = await memory(pids.node2);
    if (load.errors > 0) say(`  ${load.errors} errors`);
    const startMs = await startToReady(cluster, mode, s);
    say(`  idle RSS ${idle.rssMb.toFixed(1)} MB, PSS ${idle.pssMb.toFixed(1)} MB for ${n} pods; one more pod ready in ${Math.round(startMs)} ms`);
    return {
      mode,
      pods: n,
      idle: { proxies: pids.node2.length, rssMb: idle.rssMb, pssMb: idle.pssMb, rssMbPerPod: idle.rssMb / n, pssMbPerPod: idle.pssMb / n },
      loaded: {
        load,
        cpuPer1000Requests: cpuPer1000Requests(cpu, s.rate * (s.durationSeconds + s.warmupSeconds)),
        rssMb: loadedMem.rssMb,
        pssMbPerPod: loadedMem.pssMb / n,
      },
      startToReadyMs: startMs,
    };
  } finally {
    process.off("SIGINT", onInt);
    say("  cleaning up");
    await stop();
  }
}

async function main(): Promise<void> {
  const { values, positionals } = scriptArgs("bench:fleet", USAGE, { options: { counts: { type: "string" } }, allowPositionals: true });
  await requireLocalCluster("bench:fleet");
  const s = scenarioSchema.parse(parse(await readFile(positionals[0] ?? join(ROOT, "bench/scenarios/fleet.yaml"), "utf8")));
  if (values.counts !== undefined) {
    const counts = values.counts.split(",").map(Number);
    if (counts.some((c) => !Number.isInteger(c) || c < 1 || c > 60)) {
      process.stderr.write(`bench:fleet: --counts takes whole numbers from 1 to 60, comma-separated, not ${JSON.stringify(values.counts)}\n`);
      process.exit(2);
    }
    s.podCounts = counts;
  }
  const points: FleetPoint[] = [];
  for (const n of s.podCounts) for (const mode of ["ambient", "sidecar"] as const) points.push(await measure(n, mode, s));
  const result: FleetBenchResult = {
    scenario: { podCounts: s.podCounts, rate: s.rate, connections: s.connections, durationSeconds: s.durationSeconds, payloadBytes: s.payloadBytes },
    machine: benchMachine(),
    points,
  };
  await writeResults("fleet-bench", renderFleetJson(result), renderFleetMarkdown(result), say);
}

runMain("bench:fleet", main);
