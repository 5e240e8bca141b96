// Medians over a benchmark's rounds: one shared machine's run-to-run noise (±20 % here) is larger than
// several targets' margins, so a figure judged against a target is the median of rounds, not one run.
// Pure: table-tested.
import type { LoadResult } from "../mesh/measure/index.ts";

/** The median (the mean of the middle two for an even count), to 6 decimals (no float noise); NaN for none. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const m = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return Math.round(m * 1e6) / 1e6;
}

/** Each latency percentile, the rate and the errors as medians of the rounds (counts summed). */
export function medianLoad(rounds: readonly LoadResult[]): LoadResult {
  const m = (f: (r: LoadResult) => number) => median(rounds.map(f));
  return {
    requests: rounds.reduce((n, r) => n + r.requests, 0),
    errors: rounds.reduce((n, r) => n + r.errors, 0),
    achievedRate: m((r) => r.achievedRate),
    latencyMs: {
      p50: m((r) => r.latencyMs.p50),
      p90: m((r) => r.latencyMs.p90),
      p99: m((r) => r.latencyMs.p99),
      max: Math.max(...rounds.map((r) => r.latencyMs.max)),
    },
  };
}

export interface Usage {
  node: string;
  cpuPer1000Requests: number;
  rssAfterLoadMb: number;
  peakRssMb: number;
}

/**
 * Per process (same order every round): the median CPU, the highest peak, and the first round's RSS
 * after the load: only that one follows no bulk stream, whose buffers a process does not give back.
 */
export function medianUsage(rounds: readonly (readonly Usage[])[]): Usage[] {
  return (rounds[0] ?? []).map((first, i) => {
    const of = rounds.map((r) => r[i]!);
    return {
      node: first.node,
      cpuPer1000Requests: median(of.map((u) => u.cpuPer1000Requests)),
      rssAfterLoadMb: first.rssAfterLoadMb,
      peakRssMb: Math.max(...of.map((u) => u.peakRssMb)),
    };
  });
}
