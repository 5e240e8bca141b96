// The report from fixture results (bench/testdata/report/): which charts exist, that each is an SVG
// drawn with the figures it claims, that the page needs nothing from the network and reads without
// JavaScript, and the Markdown (golden).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BENCH_RUN_SCHEMA, kubernetesModeRun, parseBenchLog, parseBenchRun } from "../../mesh/manifests/index.ts";
import { expectGolden } from "../../mesh/testing/expect.ts";
import { waypointBenchRun, ztunnelBenchRun } from "../runs.ts";
import { ISTIO_PUBLISHED, reportCharts, runLabel } from "./charts.ts";
import { readInputs } from "./inputs.ts";
import { renderHtml, renderReportMarkdown, renderSvg } from "./render.ts";

const dir = join(import.meta.dirname, "../testdata/report");
const page = { title: "ambient-lab benchmark report", generated: "2026-11-30 21:00 UTC" };

describe("npm run report", () => {
  it("charts what exists: latency per mode and against rate, proxy CPU and memory beside Istio's, fleet memory and CPU", async () => {
    const { inputs, sources } = await readInputs(dir);
    expect(sources).toEqual([
      "ztunnel-bench.json",
      "waypoint-bench.json",
      "capacity-sweep.json",
      "fleet-bench.json",
      "waypoint-bench.run.json",
      "ztunnel-bench.run.json",
    ]);
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

  it("draws runs side by side: the local runs and a Kubernetes run, all in one schema", async () => {
    const { inputs } = await readInputs(dir);
    const log = readFileSync(join(import.meta.dirname, "../../mesh/manifests/testdata/k6-ambient.log"), "utf8");
    const summary = parseBenchLog(log);
    // What the Benchmark component makes of the same k6 log and Prometheus's answers.
    const cluster = parseBenchRun(
      {
        schema: BENCH_RUN_SCHEMA,
        mesh: "ambient-lab",
        environment: { kind: "kubernetes", name: "dev", date: summary.date },
        scenario: { rate: 1000, connections: 4, payloadBytes: 1024, durationSeconds: 60 },
        modes: { ambient: kubernetesModeRun(summary, { cpuCores: 0.12, memoryBytes: 73400320 }) },
      },
      "fixture",
    );
    const charts = reportCharts({ runs: [...inputs.runs!, cluster] });
    expect(charts.map((c) => c.id)).toEqual(["runs-latency", "runs-proxy-cpu"]);
    const latency = charts[0]!.table.rows;
    expect(latency.map((r) => [r[0]!.split(",")[1]!.trim(), r[1]])).toEqual([
      ["local bench:waypoint", "baseline"],
      ["local bench:waypoint", "ambient"],
      ["local bench:waypoint", "sidecar"],
      ["local bench:waypoint", "waypoint"],
      ["local bench:ztunnel", "baseline"],
      ["local bench:ztunnel", "ambient"],
      ["kubernetes dev", "ambient"],
    ]);
    expect(latency.at(-1)!.slice(4)).toEqual(["0.91", "1.62", "4.8"]);
    const cpu = charts[1]!.table.rows;
    expect(cpu.find((r) => r[0]!.includes("kubernetes"))).toEqual([runLabel(cluster), "ambient", "ztunnel, waypoint, sidecar", "0.12", "70"]);
    // The waypoint's own figure is the waypoint bench's, carried over unchanged.
    expect(cpu.find((r) => r[0]!.includes("bench:waypoint") && r[1] === "waypoint")![3]).toBe("0.36");
    const svg = (await renderSvg(charts[0]!)).svg;
    expect(svg).toContain("kubernetes dev");
    // Each local benchmark's latest run is already charted: side by side only across clusters, meshes or time.
    expect(reportCharts({ runs: inputs.runs! }).map((c) => c.id)).toEqual([]);
    const earlier = { ...inputs.runs![0]!, environment: { ...inputs.runs![0]!.environment, date: "2026-11-01" } };
    expect(reportCharts({ runs: [earlier, inputs.runs![0]!] }).map((c) => c.id)).toEqual(["runs-latency", "runs-proxy-cpu"]);
  });

  it("puts ours and Istio's runs of one cluster side by side, per mode (issue 16)", () => {
    const summary = parseBenchLog(readFileSync(join(import.meta.dirname, "../../mesh/manifests/testdata/k6-ambient.log"), "utf8"));
    const run = (mesh: "ambient-lab" | "istio", cpu: number) =>
      parseBenchRun(
        {
          schema: BENCH_RUN_SCHEMA,
          mesh,
          environment: { kind: "kubernetes", name: "dev", date: summary.date },
          scenario: { rate: 1000, connections: 4, payloadBytes: 1024, durationSeconds: 60 },
          modes: {
            ambient: kubernetesModeRun(summary, { cpuCores: cpu, memoryBytes: 52428800 }),
            sidecar: kubernetesModeRun(summary, { cpuCores: cpu * 3, memoryBytes: 1 }),
          },
        },
        mesh,
      );
    const charts = reportCharts({ runs: [run("ambient-lab", 0.3), run("istio", 0.1)] });
    expect(charts.map((c) => c.id)).toEqual(["runs-latency", "runs-proxy-cpu"]);
    const cpu = charts[1]!.table.rows.map((r) => [r[0]!.split(",")[0], r[1], r[3]]);
    expect(cpu).toEqual([
      ["ambient-lab", "ambient", "0.3"],
      ["ambient-lab", "sidecar", "0.9"],
      ["istio", "ambient", "0.1"],
      ["istio", "sidecar", "0.3"],
    ]);
  });

  it("writes the local benchmarks' runs in the schema (golden), and rejects a run that is not", async () => {
    const { inputs } = await readInputs(dir);
    expectGolden(join(dir, "waypoint-bench.run.json"), JSON.stringify(waypointBenchRun(inputs.waypoint!), null, 2) + "\n");
    expectGolden(join(dir, "ztunnel-bench.run.json"), JSON.stringify(ztunnelBenchRun(inputs.ztunnel!), null, 2) + "\n");
    const bad = structuredClone(inputs.runs![0]!) as unknown as { modes: { ambient: { latencyMs: { p99: number } } } };
    bad.modes.ambient.latencyMs.p99 = -1;
    expect(() => parseBenchRun(bad, "bad.run.json")).toThrow(
      /bad\.run\.json is not an ambient-lab\/bench-run\/v1 benchmark run:\n {2}modes\.ambient\.latencyMs\.p99/,
    );
    expect(() => parseBenchRun({ ambient: {} }, "old.json")).toThrow(/no "schema" field/);
  });
});
