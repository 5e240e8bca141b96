import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { renderSoakMarkdown, verdictOf, type SoakResult, type SoakSample } from "./soak-report.ts";
import { expectGolden } from "../mesh/testing/expect.ts";

const series = (rss: (i: number) => number, fds: (i: number) => number, n = 13): SoakSample[] =>
  Array.from({ length: n }, (_, i) => ({ t: i * 10, rssMb: rss(i), fds: fds(i) }));

describe("soak verdict", () => {
  it.each([
    [
      "steady",
      series(
        () => 80,
        () => 30,
      ),
      "flat",
    ],
    [
      "noisy but level (GC)",
      series(
        (i) => 80 + (i % 2 ? 6 : -6),
        (i) => 30 + (i % 3),
      ),
      "flat",
    ],
    [
      "a warm-up jump then level (the first sample is skipped)",
      series(
        (i) => (i === 0 ? 40 : 90),
        () => 30,
      ),
      "flat",
    ],
    [
      "RSS climbing 5 MB per sample",
      series(
        (i) => 80 + 5 * i,
        () => 30,
      ),
      "growing",
    ],
    [
      "fds leaking 2 per sample",
      series(
        () => 80,
        (i) => 30 + 2 * i,
      ),
      "growing",
    ],
  ] as const)("%s -> %s", (_name, samples, want) => {
    expect(verdictOf(samples).verdict).toBe(want);
  });
  it("needs a few samples to call a trend", () => {
    expect(
      verdictOf(
        series(
          (i) => 80 + 50 * i,
          () => 30,
          3,
        ),
      ),
    ).toMatchObject({ verdict: "flat", reason: "too few samples to see a trend" });
  });
});

it("renders the soak report (golden)", () => {
  const procs = [
    {
      name: "ztunnel/node-1",
      samples: series(
        (i) => 70 + (i % 2),
        () => 24,
      ),
    },
    {
      name: "waypoint/mesh/waypoint",
      samples: series(
        (i) => 90 + 4 * i,
        (i) => 30 + i,
      ),
    },
  ].map((p) => ({ ...p, verdict: verdictOf(p.samples) }));
  const result: SoakResult = {
    scenario: { minutes: 2, ratePerPath: 300, intervalSeconds: 10 },
    machine: { cpus: 2, node: "24.21.0", kernel: "6.1.0", date: "2026-11-29" },
    paths: [{ name: "ambient (ztunnels)", url: "http://198.19.0.12:8080/", requests: 36000, errors: 0, achievedRate: 300, p50Ms: 0.6, p99Ms: 3.1 }],
    processes: procs,
    verdict: "growing",
  };
  const path = join(import.meta.dirname, "testdata", "soak-report.md");
  const md = renderSoakMarkdown(result);
  expectGolden(path, md);
});
