// The results a report is made of: each benchmark's JSON under the results directory, when it exists.
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { ReportInputs } from "./charts.ts";

const FILES = { ztunnel: "ztunnel-bench.json", waypoint: "waypoint-bench.json", sweep: "capacity-sweep.json", fleet: "fleet-bench.json" } as const;

/** Reads the results that exist; a file that is not JSON is an error naming it. */
export async function readInputs(dir: string): Promise<{ inputs: ReportInputs; sources: string[] }> {
  const inputs: Record<string, unknown> = {};
  const sources: string[] = [];
  for (const [key, file] of Object.entries(FILES)) {
    const path = join(dir, file);
    if (!existsSync(path)) continue;
    try {
      inputs[key] = JSON.parse(await readFile(path, "utf8"));
    } catch (err) {
      throw new Error(`${path} is not valid JSON (${(err as Error).message}): run its benchmark again`);
    }
    sources.push(file);
  }
  return { inputs: inputs as ReportInputs, sources };
}
