// What a proxy costs while it carries load: CPU seconds (from /proc) around a piece of work, resident
// memory after it, and the one figure every report shows, CPU per 1000 requests.
import { cpuSeconds, memoryMb } from "./proc-stats.ts";

/** CPU seconds per 1000 requests, which is also vCPU per 1000 req/s. */
export function cpuPer1000Requests(cpuSecondsUsed: number, requests: number): number {
  return requests > 0 ? (cpuSecondsUsed * 1000) / requests : 0;
}

/** CPU seconds each PID uses while `work` runs, and their memory afterwards (current and peak). */
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
