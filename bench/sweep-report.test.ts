import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { expectGolden } from "../mesh/testing/expect.ts";
import { carried, knee, renderSweepMarkdown, saturated, type SweepResult, type SweepStep } from "./sweep-report.ts";

const step = (offered: number, achievedRate: number, p50: number, p99: number, errors = 0): SweepStep => ({
  offered,
  result: { requests: achievedRate * 6, errors, achievedRate, latencyMs: { p50, p90: p99 / 2, p99, max: p99 * 2 } },
});

describe("capacity sweep", () => {
  it("the knee is the highest rate carried before the path saturates; a lone p99 spike below does not hide it", () => {
    const steps = [step(500, 500, 0.3, 2), step(1000, 999, 0.4, 4), step(1500, 1490, 1.2, 80), step(2000, 1990, 0.5, 5)];
    expect(knee(steps, 50)).toBe(2000);
    expect(knee(steps, 4.5)).toBe(1000);
    // Saturated at 3000 (70 % achieved): 4000 carried afterwards (a fluke) does not count.
    expect(knee([...steps, step(3000, 2100, 900, 2000), step(4000, 4000, 0.5, 5)], 50)).toBe(2000);
    expect(knee([step(500, 400, 9, 900)], 50)).toBeUndefined();
    expect(carried(step(1000, 960, 0.4, 4), 50)).toBe(false); // 96 % achieved
    expect(carried(step(1000, 1000, 0.4, 4, 1), 50)).toBe(false); // an error
  });

  it("stops rising once a step falls well short or fails", () => {
    expect(saturated(step(3000, 2800, 1, 9))).toBe(false);
    expect(saturated(step(3000, 2600, 30, 900))).toBe(true);
    expect(saturated(step(3000, 3000, 1, 9, 200))).toBe(true);
  });

  it("renders every series with its knee (golden)", () => {
    const r: SweepResult = {
      scenario: { rates: [500, 1000, 1500], connections: [4, 16], durationSeconds: 6, warmupSeconds: 1, payloadBytes: 1024, p99BudgetMs: 50 },
      machine: { cpus: 2, node: "24.21.0", kernel: "6.1.0", date: "2026-11-30" },
      pinning: "load generator on CPU 1; proxies, servers and the control plane on CPU 0",
      series: [
        { path: "direct (no mesh)", connections: 4, steps: [step(500, 500, 0.1, 0.5), step(1000, 1000, 0.1, 0.9), step(1500, 1500, 0.2, 1.1)] },
        { path: "ambient + waypoint (L7)", connections: 4, steps: [step(500, 500, 1.1, 9), step(1000, 700, 300, 2000)] },
        { path: "sidecar (a proxy in each pod)", connections: 4, steps: [step(500, 500, 0.4, 90), step(1000, 1000, 0.5, 5), step(1500, 1200, 80, 900)] },
      ],
    };
    const md = renderSweepMarkdown(r);
    expectGolden(join(import.meta.dirname, "testdata", "sweep-report.md"), md);
    expect(md).toContain("| ambient + waypoint (L7) | 4 | 500 | 500 -> 500, 1.1 / 9; 1000 -> 700, 300 / 2000 |");
    expect(md).toContain("| sidecar (a proxy in each pod) | 4 | 1000 |");
  });
});
