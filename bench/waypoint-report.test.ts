import { join } from "node:path";
import { expect, it } from "vitest";
import {
  evaluateWaypointTargets,
  medianWaypointRounds,
  renderWaypointJson,
  renderWaypointMarkdown,
  type WaypointBenchResult,
  type WaypointRound,
} from "./waypoint-report.ts";
import { expectGolden } from "../mesh/testing/expect.ts";

const lat = (p50: number, p90: number, p99: number) => ({ requests: 20000, errors: 0, achievedRate: 1000, latencyMs: { p50, p90, p99, max: p99 * 3 } });
const sample: WaypointBenchResult = {
  scenario: { rate: 1000, connections: 4, durationSeconds: 20, payloadBytes: 1024 },
  machine: { cpus: 2, node: "24.21.0", kernel: "6.1.0", date: "2026-11-23" },
  direct: lat(0.2, 0.3, 0.6),
  ambient: lat(0.45, 0.7, 1.5),
  waypoint: lat(1.2, 2.1, 6.5),
  waypointProxy: { cpuPer1000Requests: 0.8123, rssMb: 110.4, peakRssMb: 121.9 },
  sidecar: lat(0.6, 0.9, 2.1),
  sidecarProxies: [
    { pod: "legacy/client", cpuPer1000Requests: 0.31, rssMb: 90.1 },
    { pod: "legacy/server", cpuPer1000Requests: 0.29, rssMb: 88.7 },
  ],
};

it("renders the waypoint benchmark (golden)", () => {
  const path = join(import.meta.dirname, "testdata", "waypoint-report.md");
  const md = renderWaypointMarkdown(sample);
  expectGolden(path, md);
  expect(md).toContain("| added by the waypoint | 0.75 | 1.4 | 5 | | | |");
});

it("judges issue 12's waypoint and sidecar targets, and writes them into the JSON", () => {
  // waypoint 0.8123 vCPU, added p99 6.5 - 1.5 = 5 ms; sidecars 0.31 vCPU, 90.1 MB.
  expect(evaluateWaypointTargets(sample).map((t) => [t.name, t.met])).toEqual([
    ["waypoint CPU per 1000 req/s", false],
    ["waypoint added p99", true],
    ["sidecar proxy CPU per 1000 req/s", false],
    ["sidecar proxy RSS", false],
  ]);
  const lean = {
    ...sample,
    waypoint: lat(1.2, 2.1, 12),
    waypointProxy: { cpuPer1000Requests: 0.3, rssMb: 60, peakRssMb: 70 },
    sidecarProxies: [{ pod: "legacy/client", cpuPer1000Requests: 0.12, rssMb: 65 }],
  };
  expect(evaluateWaypointTargets(lean).map((t) => t.met)).toEqual([true, false, true, true]);
  expect(JSON.parse(renderWaypointJson(sample)).targets).toHaveLength(4);
});

it("reports medians of rounds and each round's waypoint figures", () => {
  const round = (k: number): WaypointRound => ({
    direct: sample.direct,
    ambient: sample.ambient,
    waypoint: lat(1.2 + k / 10, 2.1, 6.5 + k),
    sidecar: sample.sidecar!,
    waypointProxy: { cpuPer1000Requests: 0.3 + k / 100, rssMb: 110 + k, peakRssMb: 120 + k },
    sidecarProxies: sample.sidecarProxies!.map((p) => ({ ...p, cpuPer1000Requests: p.cpuPer1000Requests + k / 100 })),
    floor: { load: lat(1 + k / 10, 1.8, 5 + k), proxy: { cpuPer1000Requests: 0.25 + k / 100, rssMb: 100 + k, peakRssMb: 105 + k } },
  });
  const rounds = [round(3), round(1), round(2)];
  const m = medianWaypointRounds(rounds);
  expect(m.waypointProxy).toEqual({ cpuPer1000Requests: 0.32, rssMb: 112, peakRssMb: 123 });
  expect(m.waypoint.latencyMs.p99).toBe(8.5);
  expect(m.sidecarProxies.map((p) => p.cpuPer1000Requests)).toEqual([0.33, 0.31]);
  expect(m.floor?.proxy).toEqual({ cpuPer1000Requests: 0.27, rssMb: 102, peakRssMb: 108 });
  expect(medianWaypointRounds(rounds.map((r) => ({ ...r, floor: undefined }))).floor).toBeUndefined();
  expectGolden(
    join(import.meta.dirname, "testdata", "waypoint-report-rounds.md"),
    renderWaypointMarkdown({ ...sample, scenario: { ...sample.scenario, rounds: 3 }, ...m, rounds }),
  );
});
