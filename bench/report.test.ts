import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { evaluateTargets, medianRounds, renderJson, renderMarkdown, type RoundResult, type ZtunnelBenchResult } from "./report.ts";
import { expectGolden } from "../mesh/testing/expect.ts";

const sample: ZtunnelBenchResult = {
  scenario: { rate: 1000, connections: 4, durationSeconds: 20, payloadBytes: 1024, bulkSeconds: 5 },
  machine: { cpus: 2, node: "24.21.0", kernel: "6.1.0", date: "2026-11-22" },
  direct: { requests: 20000, errors: 0, achievedRate: 1000, latencyMs: { p50: 0.2, p90: 0.3, p99: 0.6, max: 4 } },
  mesh: { requests: 20000, errors: 0, achievedRate: 999.8, latencyMs: { p50: 0.45, p90: 0.7, p99: 1.5, max: 9 } },
  ztunnels: [
    { node: "node-1", cpuPer1000Requests: 0.21, rssAfterLoadMb: 65, peakRssMb: 71.5 },
    { node: "node-2", cpuPer1000Requests: 0.18, rssAfterLoadMb: 64, peakRssMb: 70.1 },
  ],
  bulkGbps: { direct: 30.2, mesh: 1.9 },
};

const withFloors: ZtunnelBenchResult = {
  ...sample,
  floors: [
    {
      name: "h2",
      description: "HBONE over node:http2, nothing else",
      load: { requests: 20000, errors: 0, achievedRate: 1000, latencyMs: { p50: 0.4, p90: 0.55, p99: 1.2, max: 8 } },
      relays: [
        { node: "floor-h2/out", cpuPer1000Requests: 0.11, rssAfterLoadMb: 70.2, peakRssMb: 98.4 },
        { node: "floor-h2/in", cpuPer1000Requests: 0.1, rssAfterLoadMb: 69.9, peakRssMb: 101.3 },
      ],
      bulkGbps: 1.4,
    },
    {
      name: "tls",
      description: "mutual TLS per connection, no HTTP/2",
      load: { requests: 20000, errors: 0, achievedRate: 1000, latencyMs: { p50: 0.3, p90: 0.45, p99: 1, max: 7 } },
      relays: [
        { node: "floor-tls/out", cpuPer1000Requests: 0.08, rssAfterLoadMb: 60, peakRssMb: 70 },
        { node: "floor-tls/in", cpuPer1000Requests: 0.07, rssAfterLoadMb: 61, peakRssMb: 72 },
      ],
      bulkGbps: 3.1,
    },
  ],
};

const round = (k: number): RoundResult => ({
  direct: { ...sample.direct, latencyMs: { ...sample.direct.latencyMs, p90: 0.3 + k / 100 } },
  mesh: { ...sample.mesh, latencyMs: { ...sample.mesh.latencyMs, p90: 0.7 + k / 10 } },
  ztunnels: sample.ztunnels.map((z) => ({ ...z, cpuPer1000Requests: z.cpuPer1000Requests + k / 100, peakRssMb: z.peakRssMb + k })),
  bulkGbps: { direct: 30, mesh: 1 + k / 10 },
  floors: withFloors.floors!.map((f) => ({ ...f, bulkGbps: f.bulkGbps + k / 10 })),
});

const golden = (name: string, actual: string) => expectGolden(join(import.meta.dirname, "testdata", name), actual);

describe("bench report", () => {
  it("renders Markdown", () => golden("ztunnel-report.md", renderMarkdown(sample)));
  it("renders JSON with added latency and targets", () => golden("ztunnel-report.json", renderJson(sample)));
  it("renders each floor relay pair beside each target when the run measured them", () => {
    golden("ztunnel-report-floor.md", renderMarkdown(withFloors));
    expect(evaluateTargets(withFloors).map((t) => t.floors)).toEqual([
      ["0.25 ms", "0.15 ms"],
      ["0.11 vCPU", "0.08 vCPU"],
      ["70.2 MB", "61 MB"],
      ["101.3 MB", "72 MB"],
      ["1.4 Gbit/s", "3.1 Gbit/s"],
    ]);
    expect(evaluateTargets(sample).every((t) => t.floors === undefined)).toBe(true);
  });
  it("reports medians of rounds, the highest peak, and each round's figures", () => {
    const rounds = [round(2), round(0), round(1)];
    const m = medianRounds(rounds);
    expect(m.mesh.latencyMs.p90).toBeCloseTo(0.8, 10);
    expect(m.ztunnels[0]!.cpuPer1000Requests).toBeCloseTo(0.22, 10);
    expect(m.ztunnels[0]!.peakRssMb).toBe(73.5);
    expect(m.bulkGbps.mesh).toBeCloseTo(1.1, 10);
    expect(m.floors[0]!.bulkGbps).toBeCloseTo(1.5, 10);
    golden("ztunnel-report-rounds.md", renderMarkdown({ ...sample, scenario: { ...sample.scenario, rounds: 3 }, ...m, rounds }));
  });
  it("judges targets from the worst ztunnel", () => {
    // Added p90 0.4 ms, worst CPU 0.21, RSS after 65 (at the limit), peak 71.5, bulk 1.9 Gbit/s.
    expect(evaluateTargets(sample).map((t) => t.met)).toEqual([false, false, true, true, false]);
    const good = {
      ...sample,
      mesh: { ...sample.mesh, latencyMs: { ...sample.mesh.latencyMs, p90: 0.5 } },
      ztunnels: [{ node: "n", cpuPer1000Requests: 0.05, rssAfterLoadMb: 38, peakRssMb: 40 }],
      bulkGbps: { direct: 9, mesh: 3 },
    };
    expect(evaluateTargets(good).map((t) => t.met)).toEqual([true, true, true, true, true]);
    const heavy = { ...good, ztunnels: [{ node: "n", cpuPer1000Requests: 0.121, rssAfterLoadMb: 65.5, peakRssMb: 90.1 }] };
    expect(evaluateTargets(heavy).map((t) => t.met)).toEqual([true, false, false, false, true]);
  });
});
