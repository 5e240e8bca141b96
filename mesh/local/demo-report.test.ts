import { join } from "node:path";
import { it } from "vitest";
import { renderDemoMarkdown, type DemoResult } from "./demo.ts";
import { expectGolden } from "../testing/expect.ts";

const sample: DemoResult = {
  date: "2026-11-22T00:00:00.000Z",
  cluster: {
    nodes: [{ name: "node-1", netns: "al-local-node-1", ip: "198.18.0.11" }],
    pods: [
      { pod: "ambient-demo/sleep", ip: "198.18.1.10", node: "node-1", ambient: true },
      { pod: "sidecar-demo/sleep", ip: "198.18.1.12", node: "node-1", ambient: false, sidecar: true },
    ],
  },
  steps: [
    { name: "sleep calls httpbin in ambient-demo", ok: true, detail: '{"headers": {}}' },
    { name: "with the DENY policy the call is refused", ok: false, detail: "a | b\nc" },
  ],
  benchmark: {
    load: { rate: 500, connections: 4, durationSeconds: 5, warmupSeconds: 1 },
    baseline: { requests: 2500, errors: 0, achievedRate: 500, latencyMs: { p50: 0.2, p90: 0.3, p99: 0.9, max: 3 } },
    ambient: { requests: 2500, errors: 0, achievedRate: 499.9, latencyMs: { p50: 0.6, p90: 1, p99: 2.4, max: 9 } },
    ztunnels: [{ node: "node-1", cpuPer1000Requests: 0.1834, rssMb: 90.5 }],
    sidecar: { requests: 2500, errors: 0, achievedRate: 500, latencyMs: { p50: 1.1, p90: 1.6, p99: 4.6, max: 12 } },
    sidecars: [{ pod: "sidecar-demo/sleep", cpuPer1000Requests: 0.41, rssMb: 95.2 }],
    waypoint: { requests: 2500, errors: 0, achievedRate: 500, latencyMs: { p50: 1.7, p90: 2.7, p99: 11, max: 20 } },
    waypointProxy: { cpuPer1000Requests: 1.1034, rssMb: 128.3 },
  },
};

it("renders the demo report (golden)", () => {
  const path = join(import.meta.dirname, "testdata", "demo-report.md");
  const md = renderDemoMarkdown(sample);
  expectGolden(path, md);
});
