import { join } from "node:path";
import { expect, it } from "vitest";
import { fleetHeadline, renderFleetJson, renderFleetMarkdown, type FleetBenchResult, type FleetPoint } from "./fleet-report.ts";
import { expectGolden } from "../mesh/testing/expect.ts";

const load = { requests: 6000, errors: 0, achievedRate: 500, latencyMs: { p50: 0.8, p90: 1.4, p99: 4.2, max: 12 } };
const point = (mode: FleetPoint["mode"], pods: number, pss: number, cpu: number): FleetPoint => ({
  mode,
  pods,
  idle: { proxies: mode === "ambient" ? 1 : pods, rssMb: pss * 1.6, pssMb: pss, rssMbPerPod: (pss * 1.6) / pods, pssMbPerPod: pss / pods },
  loaded: { load, cpuPer1000Requests: cpu, rssMb: pss * 1.7, pssMbPerPod: (pss * 1.1) / pods },
  startToReadyMs: mode === "ambient" ? 180 : 1450,
});
const sample: FleetBenchResult = {
  scenario: { podCounts: [2, 10], rate: 500, connections: 4, durationSeconds: 10, payloadBytes: 1024 },
  machine: { cpus: 2, node: "24.21.0", kernel: "6.1.0", date: "2026-11-30" },
  points: [point("ambient", 2, 60, 0.31), point("sidecar", 2, 130, 0.42), point("ambient", 10, 64, 0.33), point("sidecar", 10, 560, 0.61)],
};

it("renders the fleet benchmark (golden), with the cost per pod in each mode and their ratio", () => {
  expectGolden(join(import.meta.dirname, "testdata", "fleet-report.md"), renderFleetMarkdown(sample));
  expect(fleetHeadline(sample)).toEqual([
    { pods: 2, ambientPssMbPerPod: 30, sidecarPssMbPerPod: 65, ratio: 2.2 },
    { pods: 10, ambientPssMbPerPod: 6.4, sidecarPssMbPerPod: 56, ratio: 8.8 },
  ]);
  expect(JSON.parse(renderFleetJson(sample))).toEqual(sample);
});

it("leaves out a pod count measured in one mode only", () => {
  expect(fleetHeadline({ ...sample, points: sample.points.slice(0, 3) })).toHaveLength(1);
});
