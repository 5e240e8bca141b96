#!/usr/bin/env node
// npm run soak [-- --minutes 10 --rate 1000 --interval 10]: a bounded soak. An open-loop load (the rate
// split evenly) runs at once through the ambient path (two ztunnels), the sidecar path (a proxy in each pod) and the
// waypoint path (ztunnels + waypoint), while every proxy's and the control plane's RSS and open fds are
// sampled. Prints a verdict per process and overall (flat or growing) and writes results/soak.{json,md}.
import { readdirSync } from "node:fs";
import os from "node:os";
import { parseArgs } from "node:util";
import { memoryMb, runLoad } from "../mesh/measure/index.ts";
import { onPathsCluster, requireLocalCluster, runMain, sayAs, writeResults } from "./harness.ts";
import { pathUrl, routeThroughWaypoint } from "./paths-topology.ts";
import { renderSoakMarkdown, verdictOf, type SoakProcess, type SoakResult } from "./soak-report.ts";
import { PROC, processName } from "../mesh/local/index.ts";

const USAGE = `Usage: sudo npm run soak [-- --minutes M] [--rate R] [--interval S]
  --minutes M   how long the load runs (default 10)
  --rate R      requests per second in all, split evenly over the three paths (default 1000)
  --interval S  seconds between RSS/fd samples (default 10)
Writes results/soak.json and results/soak.md. Needs root (network namespaces, nftables).
`;
const say = sayAs("soak");

function options(): { minutes: number; rate: number; interval: number } {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      options: { minutes: { type: "string" }, rate: { type: "string" }, interval: { type: "string" }, help: { type: "boolean", short: "h" } },
      strict: true,
    }));
  } catch (err) {
    process.stderr.write(`soak: ${(err as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const num = (name: string, def: number) => {
    const v = values[name];
    const n = v === undefined ? def : Number(v);
    if (!(n > 0)) {
      process.stderr.write(`soak: --${name} takes a positive number, got "${String(v)}"\n`);
      process.exit(2);
    }
    return n;
  };
  return { minutes: num("minutes", 10), rate: num("rate", 1000), interval: num("interval", 10) };
}

async function main(): Promise<void> {
  const o = options();
  await requireLocalCluster("soak");
  await onPathsCluster({ prefix: "al-s", payloadBytes: 1024, say }, async (cluster) => {
    await routeThroughWaypoint(cluster);
    const watched = [
      PROC.controlPlane,
      PROC.ztunnel("node-1"),
      PROC.ztunnel("node-2"),
      PROC.waypoint("mesh/waypoint"),
      PROC.sidecar("legacy/client"),
      PROC.sidecar("legacy/server"),
    ]
      .map(processName)
      .map((name) => ({ name, pid: cluster.processes.get(name)!.pid }));
    const processes: SoakProcess[] = watched.map((w) => ({ name: w.name, samples: [] }));
    const t0 = Date.now();
    const sample = async () => {
      const t = Math.round((Date.now() - t0) / 1000);
      for (const [i, w] of watched.entries()) {
        const rssMb = Math.round((await memoryMb(w.pid)).current * 10) / 10;
        processes[i]!.samples.push({ t, rssMb, fds: readdirSync(`/proc/${w.pid}/fd`).length });
      }
      const line = processes.map((p) => `${p.name} ${p.samples.at(-1)!.rssMb} MB/${p.samples.at(-1)!.fds} fds`).join(", ");
      say(`t=${t}s ${line}`);
    };
    const seconds = Math.round(o.minutes * 60);
    const perPath = Math.round(o.rate / 3);
    say(`${seconds} s at ${o.rate} req/s in all, ${perPath} on each path (ambient, sidecar, waypoint); samples every ${o.interval} s`);
    await sample();
    const timer = setInterval(() => void sample(), o.interval * 1000);
    const spec = { rate: perPath, connections: 4, durationSeconds: seconds, warmupSeconds: 0 };
    const paths = [
      { name: "ambient (ztunnels)", pod: "mesh/client", url: pathUrl(cluster, "mesh/server") },
      { name: "sidecar", pod: "legacy/client", url: pathUrl(cluster, "legacy/server") },
      { name: "ambient + waypoint", pod: "mesh/client", url: pathUrl(cluster, "mesh/server-wp") },
    ];
    let loads;
    try {
      loads = await Promise.all(paths.map((p) => runLoad(cluster, p.pod, p.url, spec)));
    } finally {
      clearInterval(timer);
    }
    await sample();
    const judged = processes.map((p) => ({ ...p, verdict: verdictOf(p.samples) }));
    const result: SoakResult = {
      scenario: { minutes: o.minutes, ratePerPath: perPath, intervalSeconds: o.interval },
      machine: { cpus: os.cpus().length, node: process.versions.node, kernel: os.release(), date: new Date().toISOString().slice(0, 10) },
      paths: paths.map((p, i) => ({
        name: p.name,
        url: p.url,
        requests: loads[i]!.requests,
        errors: loads[i]!.errors,
        achievedRate: loads[i]!.achievedRate,
        p50Ms: loads[i]!.latencyMs.p50,
        p99Ms: loads[i]!.latencyMs.p99,
      })),
      processes: judged,
      verdict: judged.some((p) => p.verdict.verdict === "growing") ? "growing" : "flat",
    };
    await writeResults("soak", JSON.stringify(result, null, 2) + "\n", renderSoakMarkdown(result), say);
    say(`verdict: ${result.verdict}`);
    if (result.verdict === "growing") process.exitCode = 1;
  });
}

runMain("soak", main);
