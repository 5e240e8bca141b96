#!/usr/bin/env node
// npm run bench:sweep: how much each path carries. Offers rising open-loop rates (500 req/s up, until a
// step saturates) over 4 and 16 connections to the paths of bench:waypoint (no mesh, ambient L4, sidecar,
// ambient + waypoint) and reports p50/p99 and the achieved rate per step, and each path's knee. With two
// or more CPUs the load generator runs on the last CPU and every cluster process on the others.
// Reads bench/scenarios/sweep.yaml, prints progress, writes results/capacity-sweep.{json,md}.
import { readFile } from "node:fs/promises";
import os from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { z } from "zod";
import { processTree, runLoad } from "../mesh/measure/index.ts";
import { run as runCmd, scriptArgs } from "../mesh/shared/index.ts";
import { benchMachine, onPathsCluster, requireLocalCluster, ROOT, runMain, sayAs, writeResults } from "./harness.ts";
import { pathUrl, routeThroughWaypoint } from "./paths-topology.ts";
import { knee, renderSweepMarkdown, saturated, type SweepResult, type SweepSeries } from "./sweep-report.ts";

const say = sayAs("sweep");

const scenarioSchema = z.strictObject({
  name: z.string(),
  rates: z.array(z.number().positive()).min(1),
  connections: z.array(z.number().int().positive()).min(1),
  durationSeconds: z.number().positive(),
  warmupSeconds: z.number().min(0),
  payloadBytes: z.number().int().min(0),
  p99BudgetMs: z.number().positive(),
});

const USAGE = `Usage: sudo npm run bench:sweep [-- SCENARIO.yaml] [--paths direct,ambient,sidecar,waypoint]
  offers rising rates to each path until it saturates, over each connection count (default scenario
  bench/scenarios/sweep.yaml); prints each path's knee and writes results/capacity-sweep.{json,md}. Needs root.
`;

const PATHS = {
  direct: { label: "direct (no mesh)", client: "plain/client", service: "plain/server" },
  ambient: { label: "ambient L4 (two ztunnels)", client: "mesh/client", service: "mesh/server" },
  sidecar: { label: "sidecar (a proxy in each pod)", client: "legacy/client", service: "legacy/server" },
  waypoint: { label: "ambient + waypoint (L7)", client: "mesh/client", service: "mesh/server-wp" },
} as const;
type PathName = keyof typeof PATHS;

async function main(): Promise<void> {
  const { values, positionals } = scriptArgs("bench:sweep", USAGE, { options: { paths: { type: "string" } }, allowPositionals: true });
  await requireLocalCluster("bench:sweep");
  const paths = (values.paths ?? Object.keys(PATHS).join(",")).split(",").map((p) => p.trim()) as PathName[];
  const unknown = paths.filter((p) => !(p in PATHS));
  if (unknown.length) {
    process.stderr.write(`bench:sweep: unknown path ${unknown.join(", ")}; paths: ${Object.keys(PATHS).join(", ")}\n`);
    process.exit(2);
  }
  const s = scenarioSchema.parse(parse(await readFile(positionals[0] ?? join(ROOT, "bench/scenarios/sweep.yaml"), "utf8")));
  await onPathsCluster({ prefix: "al-c", payloadBytes: s.payloadBytes, say }, async (cluster) => {
    await routeThroughWaypoint(cluster);
    const cpus = os.cpus().length;
    let pinning = "not pinned: one CPU";
    let loadCpus: string | undefined;
    if (cpus >= 2) {
      loadCpus = String(cpus - 1);
      const rest = cpus === 2 ? "0" : `0-${cpus - 2}`;
      for (const p of cluster.processes.list()) {
        for (const pid of await processTree(p.pid)) await runCmd("taskset", ["-a", "-p", "-c", rest, String(pid)]);
      }
      pinning = `load generator on CPU ${loadCpus}; proxies, servers and the control plane on CPU ${rest}`;
    }
    say(pinning);
    const series: SweepSeries[] = [];
    for (const name of paths) {
      const p = PATHS[name];
      for (const connections of s.connections) {
        const x: SweepSeries = { path: p.label, connections, steps: [] };
        series.push(x);
        for (const rate of s.rates) {
          say(`${p.label}, ${connections} connections: ${rate} req/s for ${s.warmupSeconds}+${s.durationSeconds} s`);
          const result = await runLoad(cluster, p.client, pathUrl(cluster, p.service), {
            rate,
            connections,
            durationSeconds: s.durationSeconds,
            warmupSeconds: s.warmupSeconds,
            ...(loadCpus ? { cpus: loadCpus } : {}),
          });
          const { firstError, ...kept } = result;
          x.steps.push({ offered: rate, result: kept });
          say(
            `  achieved ${result.achievedRate} req/s, p50 ${result.latencyMs.p50} ms, p99 ${result.latencyMs.p99} ms, ${result.errors} errors${firstError ? ` (${firstError})` : ""}`,
          );
          if (saturated(x.steps.at(-1)!)) break;
        }
        say(`  knee: ${knee(x.steps, s.p99BudgetMs) ?? "below the first step"} req/s`);
      }
    }
    const result: SweepResult = {
      scenario: {
        rates: s.rates,
        connections: s.connections,
        durationSeconds: s.durationSeconds,
        warmupSeconds: s.warmupSeconds,
        payloadBytes: s.payloadBytes,
        p99BudgetMs: s.p99BudgetMs,
      },
      machine: benchMachine(),
      pinning,
      series,
    };
    await writeResults("capacity-sweep", JSON.stringify(result, null, 2) + "\n", renderSweepMarkdown(result), say);
  });
}

runMain("bench:sweep", main);
