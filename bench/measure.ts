// Measurement steps shared by the benchmarks and the demo: the open-loop load generator run inside a pod,
// and a proxy's CPU and memory read from /proc around it.
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { NODE_BIN, type LocalCluster } from "../mesh/local/index.ts";
import { cpuSeconds, memoryMb } from "../mesh/local/index.ts";
import type { LoadResult } from "./report.ts";

const LOADGEN = join(fileURLToPath(new URL("..", import.meta.url)), "bench/loadgen.ts");

export interface LoadSpec {
  rate: number;
  connections: number;
  durationSeconds: number;
  warmupSeconds: number;
}

export async function runLoad(cluster: LocalCluster, pod: string, url: string, s: LoadSpec): Promise<LoadResult & { firstError?: string }> {
  const r = await cluster.exec(
    pod,
    NODE_BIN,
    [
      LOADGEN,
      "--url",
      url,
      "--rate",
      String(s.rate),
      "--connections",
      String(s.connections),
      "--duration",
      String(s.durationSeconds),
      "--warmup",
      String(s.warmupSeconds),
    ],
    { timeoutMs: (s.durationSeconds + s.warmupSeconds + 60) * 1000 },
  );
  if (r.code !== 0) throw new Error(`load generator failed in ${pod}: ${r.stderr.trim()}`);
  return JSON.parse(r.stdout.trim().split("\n").at(-1)!) as LoadResult & { firstError?: string };
}

/** CPU seconds each PID uses while `work` runs, and their memory afterwards. */
export async function measureProcesses<T>(
  pids: number[],
  work: () => Promise<T>,
): Promise<{ result: T; cpuSeconds: number[]; rssMb: number[]; peakRssMb: number[] }> {
  const before = await Promise.all(pids.map(cpuSeconds));
  const result = await work();
  const after = await Promise.all(pids.map(cpuSeconds));
  const mem = await Promise.all(pids.map(memoryMb));
  return { result, cpuSeconds: after.map((a, i) => a - before[i]!), rssMb: mem.map((m) => m.current), peakRssMb: mem.map((m) => m.peak) };
}
