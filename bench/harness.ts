// What every benchmark script does the same way: refuse to start without root and the local cluster's
// tools, run on a fresh paths cluster that is always torn down (also on Ctrl-C), write its results
// under results/, and end with one line and exit 1 on failure.
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { checkPrereqs, describeMissing, LocalCluster, type ClusterSpec } from "../mesh/local/index.ts";
import type { BenchRun } from "../mesh/manifests/index.ts";
import { pathsTopology } from "./paths-topology.ts";

export const ROOT = fileURLToPath(new URL("..", import.meta.url));

export type Say = (msg: string) => void;

/** Progress lines of a benchmark, with the time since it started (benchmarks run for minutes). */
export function sayAs(tag: string): Say {
  const start = performance.now();
  return (msg) => process.stderr.write(`[${tag} ${((performance.now() - start) / 1000).toFixed(0).padStart(4)}s] ${msg}\n`);
}

/** Exits 2 with the fix when not root or when the local cluster's tools are missing. */
export async function requireLocalCluster(name: string): Promise<void> {
  if (process.getuid?.() !== 0) {
    process.stderr.write(`${name} needs root (network namespaces and nftables): run it with sudo\n`);
    process.exit(2);
  }
  const missing = describeMissing(await checkPrereqs("local"), "");
  if (missing) {
    process.stderr.write(`${name} cannot run: ${missing}\n`);
    process.exit(2);
  }
}

/**
 * Builds the paths cluster (bench/paths-topology.ts) under a fresh prefix, runs `body` on it and removes
 * it whatever happens; `adjust` may change the spec first (profiling flags).
 */
export async function onPathsCluster(
  o: { prefix: string; payloadBytes: number; say: Say; adjust?: (spec: ClusterSpec) => void | Promise<void> },
  body: (cluster: LocalCluster) => Promise<void>,
): Promise<void> {
  const workDir = await mkdtemp(join(os.tmpdir(), `${o.prefix}-`));
  const spec = await pathsTopology({ prefix: `${o.prefix}${randomBytes(2).toString("hex")}`, workDir, payloadBytes: o.payloadBytes });
  await o.adjust?.(spec);
  const cluster = new LocalCluster(spec);
  const stop = async () => {
    o.say("cleaning up");
    await cluster.down();
    await rm(workDir, { recursive: true, force: true });
  };
  process.once("SIGINT", () => void stop().then(() => process.exit(130)));
  try {
    o.say(`building the cluster (${cluster.spec.prefix}): control plane, two ztunnels, a waypoint, two sidecars`);
    await cluster.up();
    await body(cluster);
  } finally {
    await stop();
  }
}

/**
 * NODE_OPTIONS for the measured proxies: a V8 CPU profile into `cpuProfDir` and/or other flags Node
 * accepts there (heap sizes, `--perf-basic-prof`) to experiment with. Empty when neither is asked.
 */
export function proxyNodeOptions(o: { cpuProfDir?: string | undefined; nodeOptions?: string | undefined }): Record<string, string> {
  const parts = [...(o.cpuProfDir ? [`--cpu-prof --cpu-prof-dir=${o.cpuProfDir}`] : []), ...(o.nodeOptions ? [o.nodeOptions] : [])];
  return parts.length ? { NODE_OPTIONS: parts.join(" ") } : {};
}

export const NODE_OPTIONS_USAGE = `  --node-options=STR  more NODE_OPTIONS for the proxies, among the flags Node allows there
                   (--max-semi-space-size=N, --max-old-space-size=N, --perf-basic-prof for perf's JS frames):
                   to try a runtime setting before changing the images; such a run is an experiment
`;
/** `--<option> KEY=VALUE` (repeatable) as environment variables, or exit 2 naming the fix. */
export function parseEnvPairs(name: string, option: string, pairs: readonly string[] | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  for (const kv of pairs ?? []) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(kv);
    if (!m) {
      process.stderr.write(`${name}: --${option} takes KEY=VALUE (an upper-case variable name), not ${JSON.stringify(kv)}\n`);
      process.exit(2);
    }
    env[m[1]!] = m[2]!;
  }
  return env;
}

/** `--rounds N`: a whole number from 1 to 20, or exit 2 naming the fix. */
export function parseRounds(name: string, raw: string | undefined): number {
  const n = Number(raw ?? "1");
  if (!Number.isInteger(n) || n < 1 || n > 20) {
    process.stderr.write(`${name}: --rounds takes a whole number from 1 to 20, not ${JSON.stringify(raw)}\n`);
    process.exit(2);
  }
  return n;
}

/** The machine a result was measured on, as every report prints it. */
export function benchMachine(): { cpus: number; node: string; kernel: string; date: string } {
  return { cpus: os.cpus().length, node: process.versions.node, kernel: os.release(), date: new Date().toISOString().slice(0, 10) };
}

/**
 * Writes results/<name>.json and .md and prints the Markdown; with `run`, also results/<name>.run.json,
 * the benchmark run in the schema the Kubernetes stack output shares (mesh/manifests/bench-run.ts).
 */
export async function writeResults(name: string, json: string, md: string, say: Say, run?: BenchRun): Promise<void> {
  const outDir = join(ROOT, "results");
  await mkdir(outDir, { recursive: true });
  await writeFile(join(outDir, `${name}.json`), json);
  await writeFile(join(outDir, `${name}.md`), md);
  if (run) await writeFile(join(outDir, `${name}.run.json`), JSON.stringify(run, null, 2) + "\n");
  process.stdout.write(md);
  say(`results written to ${join(outDir, `${name}.{json,md${run ? ",run.json" : ""}}`)}`);
}

/** Runs a script's main: a failure is one message and exit code 1. */
export function runMain(name: string, main: () => Promise<void>): void {
  main().catch((err) => {
    // A bug shows where it is; anything else (bad input, a missing tool, a failed run) its message, which names the fix.
    const bug = err instanceof TypeError || err instanceof ReferenceError || err instanceof RangeError || err instanceof SyntaxError;
    process.stderr.write(`${name} failed: ${err instanceof Error ? (bug ? err.stack : err.message) : String(err)}\n`);
    process.exitCode = 1;
  });
}
