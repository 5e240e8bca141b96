import { describe, expect, it } from "vitest";
import { median, medianLoad, medianUsage } from "./median.ts";

describe("medians over rounds", () => {
  it("is NaN for no rounds", () => expect(median([])).toBeNaN());
  it.each([
    [[3], 3],
    [[3, 1], 2],
    [[5, 1, 3], 3],
    [[0.9, 0.7, 1.2, 0.8], 0.85],
  ])("median(%j) = %d", (xs, want) => expect(median(xs)).toBeCloseTo(want, 10));

  it("takes each percentile's median, the worst max, and sums counts", () => {
    const r = (p90: number, max: number, errors = 0) => ({
      requests: 100,
      errors,
      achievedRate: 1000 - p90,
      latencyMs: { p50: p90 / 2, p90, p99: p90 * 4, max },
    });
    expect(medianLoad([r(1, 10), r(3, 5, 2), r(2, 40)])).toEqual({
      requests: 300,
      errors: 2,
      achievedRate: 998,
      latencyMs: { p50: 1, p90: 2, p99: 8, max: 40 },
    });
  });

  it("keeps processes apart: median CPU, the first round's RSS (before any bulk stream), the highest peak", () => {
    const u = (node: string, cpu: number, rss: number, peak: number) => ({ node, cpuPer1000Requests: cpu, rssAfterLoadMb: rss, peakRssMb: peak });
    expect(
      medianUsage([
        [u("a", 0.1, 90, 120), u("b", 0.2, 80, 100)],
        [u("a", 0.3, 95, 150), u("b", 0.1, 81, 101)],
        [u("a", 0.2, 91, 130), u("b", 0.3, 82, 99)],
      ]),
    ).toEqual([u("a", 0.2, 90, 150), u("b", 0.2, 80, 101)]);
  });
});
