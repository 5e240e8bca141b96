// The report from fixture results (bench/testdata/report/): which charts exist, that each is an SVG
// drawn with the figures it claims, that the page needs nothing from the network and reads without
// JavaScript, and the Markdown (golden).
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { expectGolden } from "../../mesh/testing/expect.ts";
import { ISTIO_PUBLISHED, reportCharts } from "./charts.ts";
import { readInputs } from "./inputs.ts";
import { renderHtml, renderReportMarkdown, renderSvg } from "./render.ts";

const dir = join(import.meta.dirname, "../testdata/report");
const page = { title: "ambient-lab benchmark report", generated: "2026-11-30 21:00 UTC" };

describe("npm run report", () => {
  it("charts what exists: latency per mode and against rate, proxy CPU and memory beside Istio's, fleet memory and CPU", async () => {
    const { inputs, sources } = await readInputs(dir);
    expect(sources).toEqual(["ztunnel-bench.json", "waypoint-bench.json", "capacity-sweep.json", "fleet-bench.json"]);
    const charts = reportCharts(inputs);
    expect(charts.map((c) => c.id)).toEqual(["latency-modes", "latency-rate", "proxy-cpu", "proxy-memory", "fleet-memory", "fleet-cpu"]);
    const cpu = charts.find((c) => c.id === "proxy-cpu")!;
    expect(cpu.table.rows.map((r) => r[0])).toEqual(["ztunnel", "waypoint", "sidecar"]);
    expect(cpu.table.rows.find((r) => r[0] === "waypoint")).toEqual(["waypoint", "0.36", String(ISTIO_PUBLISHED.waypoint.vcpu), "125.5", "60"]);
    expect(reportCharts({}).length).toBe(0);
    expect(reportCharts({ fleet: inputs.fleet! }).map((c) => c.id)).toEqual(["fleet-memory", "fleet-cpu"]);
  });

  it("draws each chart as SVG with its figures, in a page with no script and no network fetch", async () => {
    const { inputs, sources } = await readInputs(dir);
    const rendered = await Promise.all(reportCharts(inputs).map(renderSvg));
    const html = renderHtml({ ...page, sources, charts: rendered });
    expect(html.match(/<svg /g)).toHaveLength(6);
    expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|url\(/i);
    // The only URLs are XML namespaces.
    for (const m of html.matchAll(/https?:\/\/[^\s"'<>]+/g)) expect(m[0]).toMatch(/^http:\/\/www\.w3\.org\//);
    // The fleet chart has one point per measured count and mode, and its axis says what it is.
    const fleet = rendered.find((c) => c.id === "fleet-memory")!.svg;
    expect(fleet).toMatch(/proxy PSS per pod \(MB\)/);
    expect(fleet.match(/role-mark/g)?.length).toBeGreaterThan(0);
    expect(rendered.find((c) => c.id === "latency-modes")!.svg).toMatch(/ambient \+ waypoint/);
  });

  it("renders the Markdown for terminals (golden)", async () => {
    const { inputs, sources } = await readInputs(dir);
    expectGolden(join(dir, "report.md"), renderReportMarkdown({ ...page, sources, charts: reportCharts(inputs) }));
  });

  it("adds a Kubernetes run's latency per mode from its stack outputs", () => {
    const results = {
      ambient: {
        mode: "ambient",
        requestedRate: 500,
        achievedRate: 499.8,
        requests: 30000,
        errorRate: 0,
        droppedIterations: 0,
        latencyMs: { p50: 1, p90: 2, p95: 3, p99: 5, max: 9 },
        proxyCpuCores: 0.1,
        proxyMemoryMb: 40,
      },
      sidecar: {
        mode: "sidecar",
        requestedRate: 500,
        achievedRate: 499.5,
        requests: 30000,
        errorRate: 0,
        droppedIterations: 0,
        latencyMs: { p50: 1.5, p90: 3, p95: 4, p99: 7, max: 12 },
        proxyCpuCores: 0.2,
        proxyMemoryMb: 90,
      },
    };
    const charts = reportCharts({ stack: { name: "dev", results } });
    expect(charts.map((c) => c.id)).toEqual(["latency-kubernetes"]);
    expect(charts[0]!.table.rows).toEqual([
      ["ambient", "1", "2", "5"],
      ["sidecar", "1.5", "3", "7"],
    ]);
  });
});
