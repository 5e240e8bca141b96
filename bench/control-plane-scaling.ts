// bench:control-plane --scaling: one run of the benchmark per cluster size, each in its own process, and
// the CPU per change side by side with its ratio to the smallest size (flat means work proportional to
// the change, not to the cluster).
import { spawn, type ChildProcess } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { cleanupOnInterrupt } from "./interrupt.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
/** Changes measured per size: enough to average the collections they cause (30 were not). */
const CHANGES = 100;

/** One run of this benchmark per cluster size, in its own process; the CPU per change side by side. */
export async function scaling(o: { sizes: number[]; proxies: string; debounce: string; script: string; say: (s: string) => void }): Promise<void> {
  const { sizes, say } = o;
  const dir = await mkdtemp(join(os.tmpdir(), "al-cpscale-"));
  const rows: Array<{ size: { pods: number }; cpuMsPerChange: number; changeToAllAppliedMs: { p50: number; p99: number }; translateMs: number }> = [];
  let child: ChildProcess | undefined;
  const uninstall = cleanupOnInterrupt(() => (child ? [child] : []), dir);
  try {
    for (const pods of sizes) {
      say(`scaling point: ${pods} pods`);
      const file = join(dir, `${pods}.json`);
      const args = [o.script, "--pods", String(pods), "--services", String(Math.max(1, pods / 5)), "--policies", String(Math.max(1, pods / 20))];
      args.push("--changes", String(CHANGES), "--csrs", "0", "--many-proxies", "0", "--proxies", o.proxies, "--debounce", o.debounce, "--json-out", file);
      const run = (child = spawn(process.execPath, args, { stdio: ["ignore", "ignore", "inherit"] }));
      const code = await new Promise((r) => run.once("exit", r));
      if (code !== 0) throw new Error(`the ${pods}-pod run failed (exit ${code}); its output is above`);
      rows.push(JSON.parse(await readFile(file, "utf8")));
    }
  } finally {
    uninstall();
    await rm(dir, { recursive: true, force: true });
  }
  const base = rows[0]!.cpuMsPerChange;
  const table = rows.map((r) => ({
    pods: r.size.pods,
    cpuMsPerChange: r.cpuMsPerChange,
    ratio: Math.round((r.cpuMsPerChange / base) * 100) / 100,
    changeToAllAppliedMs: r.changeToAllAppliedMs,
    translateMs: r.translateMs,
  }));
  const md = [
    `# control plane benchmark: scaling`,
    ``,
    `${o.proxies} proxies, ${CHANGES} pod changes per size (after 20 warm-up changes); services pods/5, policies pods/20; ${os.cpus().length} CPUs, Node ${process.versions.node}, ${new Date().toISOString().slice(0, 10)}.`,
    ``,
    `| pods | CPU per change | ratio to ${sizes[0]} pods | change -> all proxies p50 / p99 | full translation |`,
    `|---|---|---|---|---|`,
    ...table.map(
      (r) => `| ${r.pods} | ${r.cpuMsPerChange} ms | ${r.ratio} | ${r.changeToAllAppliedMs.p50} / ${r.changeToAllAppliedMs.p99} ms | ${r.translateMs} ms |`,
    ),
    ``,
  ].join("\n");
  const out = join(ROOT, "results");
  await mkdir(out, { recursive: true });
  await writeFile(join(out, "control-plane-scaling.json"), JSON.stringify(table, null, 2) + "\n");
  await writeFile(join(out, "control-plane-scaling.md"), md);
  process.stdout.write(md);
}
