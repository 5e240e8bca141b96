// The results a report is made of: each benchmark's JSON under the results directory, when it exists, and
// every benchmark run there (*.run.json, mesh/manifests/bench-run.ts), validated.
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { type BenchRun, parseBenchRun } from "../../mesh/manifests/index.ts";
import type { ReportInputs } from "./charts.ts";

const FILES = { ztunnel: "ztunnel-bench.json", waypoint: "waypoint-bench.json", sweep: "capacity-sweep.json", fleet: "fleet-bench.json" } as const;

async function readJson(path: string, fix: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, "utf8"));
  } catch (err) {
    throw new Error(`${path} is not valid JSON (${(err as Error).message}): ${fix}`);
  }
}

/** One run from a file: the stack output saved by `pulumi stack output benchmarkResults --json`, or a local *.run.json. */
export async function readRun(path: string): Promise<BenchRun> {
  if (!existsSync(path)) throw new Error(`${path} does not exist: give a file a benchmark wrote (results/*.run.json) or a saved stack output`);
  return parseBenchRun(await readJson(path, "save the run again"), path);
}

/** Reads the results that exist; a file that is not JSON, or a run not in the schema, is an error naming it. */
export async function readInputs(dir: string): Promise<{ inputs: ReportInputs; sources: string[] }> {
  const inputs: Record<string, unknown> = {};
  const sources: string[] = [];
  for (const [key, file] of Object.entries(FILES)) {
    const path = join(dir, file);
    if (!existsSync(path)) continue;
    inputs[key] = await readJson(path, "run its benchmark again");
    sources.push(file);
  }
  const runFiles = existsSync(dir) ? (await readdir(dir)).filter((f) => f.endsWith(".run.json")).sort() : [];
  const runs: BenchRun[] = [];
  for (const f of runFiles) {
    runs.push(await readRun(join(dir, f)));
    sources.push(f);
  }
  if (runs.length) inputs.runs = runs;
  return { inputs: inputs as ReportInputs, sources };
}
