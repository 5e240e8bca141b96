import { join } from "node:path";
import { expect, it } from "vitest";
import { renderWaypointMarkdown, type WaypointBenchResult } from "./waypoint-report.ts";
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
