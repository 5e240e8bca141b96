// CPU time and memory of a process from /proc (Linux), for benchmark reports.
import { readdir, readFile } from "node:fs/promises";

const CLOCK_TICKS = 100; // USER_HZ on Linux

/** User + system CPU seconds the process has used so far. */
export async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** Peak and current resident set size in MB (VmHWM, VmRSS). */
export async function memoryMb(pid: number): Promise<{ peak: number; current: number }> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0);
  return { peak: kb("VmHWM") / 1024, current: kb("VmRSS") / 1024 };
}

/** A process and every process it started, depth first (nginx's workers, `ip netns exec`'s command). */
export async function processTree(pid: number): Promise<number[]> {
  const out = [pid];
  const tasks = await readdir(`/proc/${pid}/task`).catch(() => [] as string[]);
  for (const t of tasks) {
    const children = await readFile(`/proc/${pid}/task/${t}/children`, "utf8").catch(() => "");
    for (const c of children.trim().split(/\s+/).filter(Boolean)) out.push(...(await processTree(Number(c))));
  }
  return out;
}

/**
 * Proportional set size in MB (smaps_rollup): resident pages, each shared page split among the
 * processes that map it. Summed over many Node processes it does not count Node's code once per process.
 */
export async function pssMb(pid: number): Promise<number> {
  const rollup = await readFile(`/proc/${pid}/smaps_rollup`, "utf8");
  return Number(/^Pss:\s+(\d+) kB/m.exec(rollup)?.[1] ?? 0) / 1024;
}
