// Pure: benchmark results -> the report's charts, each a Vega-Lite spec with the same figures as a table
// (for the Markdown report and for readers of the HTML without its SVG). Only what exists is charted:
// every input is optional. Istio's published figures (Istio's performance page, 1000 HTTP req/s, 1 KB)
// stand beside ours where a chart compares proxies.
import type { TopLevelSpec } from "vega-lite";
import type { BenchRun } from "../../mesh/manifests/index.ts";
import type { FleetBenchResult } from "../fleet-report.ts";
import type { ZtunnelBenchResult } from "../report.ts";
import type { SweepResult } from "../sweep-report.ts";
import type { WaypointBenchResult } from "../waypoint-report.ts";

export interface ReportInputs {
  ztunnel?: ZtunnelBenchResult;
  waypoint?: WaypointBenchResult;
  sweep?: SweepResult;
  fleet?: FleetBenchResult;
  /**
   * Benchmark runs (one schema, local or Kubernetes: results/*.run.json, `--run`, a stack's
   * `benchmarkResults`), drawn side by side per mode when they compare clusters, meshes or times.
   */
  runs?: BenchRun[];
}

export interface Chart {
  id: string;
  title: string;
  /** What the chart shows and where its figures come from. */
  caption: string;
  spec: TopLevelSpec;
  table: { header: string[]; rows: string[][] };
}

/** Istio's published per-proxy figures at 1000 req/s (istio.io performance page; ztunnel, waypoint, sidecar). */
export const ISTIO_PUBLISHED = {
  ztunnel: { vcpu: 0.06, memoryMb: 12 },
  waypoint: { vcpu: 0.25, memoryMb: 60 },
  sidecar: { vcpu: 0.2, memoryMb: 60 },
} as const;

const SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json";
const WIDTH = 520;
/** Legends show whole labels (the paths' names are long). */
const CONFIG = { legend: { labelLimit: 0 } };
const r2 = (n: number) => String(Math.round(n * 100) / 100);

/** Horizontal bars: `x` for each `y`, grouped by `group` (side by side, one color each). */
function barSpec(
  values: object[],
  y: { field: string; sort?: string[] },
  group: { field: string; sort?: string[] },
  x: { field: string; title: string },
): TopLevelSpec {
  return {
    $schema: SCHEMA,
    width: WIDTH,
    config: CONFIG,
    data: { values },
    mark: "bar",
    encoding: {
      y: { field: y.field, type: "nominal", title: null, ...(y.sort ? { sort: y.sort } : {}) },
      yOffset: { field: group.field, ...(group.sort ? { sort: group.sort } : {}) },
      x: { field: x.field, type: "quantitative", title: x.title },
      color: { field: group.field, type: "nominal", title: null, ...(group.sort ? { sort: group.sort } : {}) },
    },
  };
}

/** Lines with points: `y` against `x`, one line per value of `color`. */
function lineSpec(values: object[], x: { field: string; title: string }, y: { field: string; title: string; log?: boolean }, color: string): TopLevelSpec {
  return {
    $schema: SCHEMA,
    width: WIDTH,
    config: CONFIG,
    data: { values },
    mark: { type: "line", point: true },
    encoding: {
      x: { field: x.field, type: "quantitative", title: x.title },
      y: { field: y.field, type: "quantitative", title: y.title, ...(y.log ? { scale: { type: "log" as const } } : {}) },
      color: { field: color, type: "nominal", title: null },
    },
  };
}

function percentileRows(paths: Array<[string, { latencyMs: { p50: number; p90: number; p99: number } }]>) {
  return paths.flatMap(([path, l]) => (["p50", "p90", "p99"] as const).map((p) => ({ path, percentile: p, ms: l.latencyMs[p] })));
}

function latencyChart(id: string, title: string, caption: string, paths: Array<[string, { latencyMs: { p50: number; p90: number; p99: number } }]>): Chart {
  const values = percentileRows(paths);
  return {
    id,
    title,
    caption,
    spec: barSpec(
      values,
      { field: "path", sort: paths.map(([p]) => p) },
      { field: "percentile", sort: ["p50", "p90", "p99"] },
      { field: "ms", title: "latency (ms)" },
    ),
    table: { header: ["path", "p50 ms", "p90 ms", "p99 ms"], rows: paths.map(([p, l]) => [p, r2(l.latencyMs.p50), r2(l.latencyMs.p90), r2(l.latencyMs.p99)]) },
  };
}

export function reportCharts(i: ReportInputs): Chart[] {
  const out: Chart[] = [];
  if (i.waypoint) {
    const w = i.waypoint;
    out.push(
      latencyChart(
        "latency-modes",
        "Latency per mode (local cluster)",
        `bench:waypoint, ${w.scenario.rate} req/s over ${w.scenario.connections} connections, ${w.scenario.payloadBytes} B responses, ${w.machine.date}, ${w.machine.cpus} vCPUs.`,
        [
          ["no mesh", w.direct],
          ["ambient (ztunnels)", w.ambient],
          ...(w.sidecar ? ([["sidecar", w.sidecar]] as Array<[string, typeof w.direct]>) : []),
          ["ambient + waypoint", w.waypoint],
        ],
      ),
    );
  } else if (i.ztunnel) {
    const z = i.ztunnel;
    out.push(
      latencyChart("latency-modes", "Latency per mode (local cluster)", `bench:ztunnel, ${z.scenario.rate} req/s, ${z.machine.date}.`, [
        ["no mesh", z.direct],
        ["ambient (ztunnels)", z.mesh],
      ]),
    );
  }
  if (i.sweep) {
    const values = i.sweep.series.flatMap((s) =>
      s.steps.map((st) => ({
        series: `${s.path}, ${s.connections} conn`,
        offered: st.offered,
        p99: st.result.latencyMs.p99,
        achieved: st.result.achievedRate,
      })),
    );
    out.push({
      id: "latency-rate",
      title: "p99 latency against offered rate",
      caption: `bench:sweep, ${i.sweep.scenario.durationSeconds} s per step, ${i.sweep.pinning}; ${i.sweep.machine.date}.`,
      spec: lineSpec(values, { field: "offered", title: "offered rate (req/s)" }, { field: "p99", title: "p99 latency (ms, log)", log: true }, "series"),
      table: {
        header: ["series", "offered req/s", "achieved req/s", "p99 ms"],
        rows: values.map((v) => [v.series, String(v.offered), r2(v.achieved), r2(v.p99)]),
      },
    });
  }
  const proxies: Array<{ proxy: keyof typeof ISTIO_PUBLISHED; vcpu: number; memoryMb: number }> = [];
  if (i.ztunnel?.ztunnels.length) {
    const busiest = [...i.ztunnel.ztunnels].sort((a, b) => b.cpuPer1000Requests - a.cpuPer1000Requests)[0]!;
    proxies.push({ proxy: "ztunnel", vcpu: busiest.cpuPer1000Requests, memoryMb: busiest.rssAfterLoadMb });
  }
  if (i.waypoint) proxies.push({ proxy: "waypoint", vcpu: i.waypoint.waypointProxy.cpuPer1000Requests, memoryMb: i.waypoint.waypointProxy.rssMb });
  if (i.waypoint?.sidecarProxies?.length) {
    const worst = [...i.waypoint.sidecarProxies].sort((a, b) => b.cpuPer1000Requests - a.cpuPer1000Requests)[0]!;
    proxies.push({ proxy: "sidecar", vcpu: worst.cpuPer1000Requests, memoryMb: worst.rssMb });
  }
  if (proxies.length) {
    const values = proxies.flatMap((p) => [
      { proxy: p.proxy, source: "ambient-lab (measured)", vcpu: p.vcpu, memoryMb: p.memoryMb },
      { proxy: p.proxy, source: "Istio (published)", vcpu: ISTIO_PUBLISHED[p.proxy].vcpu, memoryMb: ISTIO_PUBLISHED[p.proxy].memoryMb },
    ]);
    const bars = (field: "vcpu" | "memoryMb", title: string) => barSpec(values, { field: "proxy" }, { field: "source" }, { field, title });
    const rows = proxies.map((p) => [p.proxy, r2(p.vcpu), String(ISTIO_PUBLISHED[p.proxy].vcpu), r2(p.memoryMb), String(ISTIO_PUBLISHED[p.proxy].memoryMb)]);
    const header = ["proxy", "vCPU per 1000 req/s", "Istio vCPU", "RSS MB", "Istio MB"];
    out.push(
      {
        id: "proxy-cpu",
        title: "Proxy CPU per 1000 req/s, ours and Istio's",
        caption: "bench:ztunnel (busiest ztunnel), bench:waypoint (waypoint, busiest sidecar); Istio's figures from its performance page.",
        spec: bars("vcpu", "vCPU per 1000 req/s"),
        table: { header, rows },
      },
      {
        id: "proxy-memory",
        title: "Proxy memory, ours and Istio's",
        caption: "Resident memory after the load; Istio's figures from its performance page.",
        spec: bars("memoryMb", "RSS (MB)"),
        table: { header, rows },
      },
    );
  }
  if (i.fleet) {
    const values = i.fleet.points.map((p) => ({ mode: p.mode, pods: p.pods, pssMbPerPod: p.idle.pssMbPerPod, vcpu: p.loaded.cpuPer1000Requests }));
    const lines = (field: "pssMbPerPod" | "vcpu", title: string) =>
      lineSpec(values, { field: "pods", title: "application pods per node" }, { field, title }, "mode");
    const rows = i.fleet.points.map((p) => [
      p.mode,
      String(p.pods),
      r2(p.idle.pssMbPerPod),
      r2(p.idle.rssMb),
      r2(p.loaded.cpuPer1000Requests),
      String(Math.round(p.startToReadyMs)),
    ]);
    const header = ["mode", "pods", "PSS MB per pod", "proxies' RSS MB", "vCPU per 1000 req/s", "start to ready ms"];
    const caption = `bench:fleet, ${i.fleet.scenario.rate} req/s in total, ${i.fleet.machine.date}: one ztunnel per node against a proxy per pod.`;
    out.push(
      {
        id: "fleet-memory",
        title: "Mesh memory per pod as pods per node grow",
        caption,
        spec: lines("pssMbPerPod", "proxy PSS per pod (MB)"),
        table: { header, rows },
      },
      { id: "fleet-cpu", title: "Mesh CPU as pods per node grow", caption, spec: lines("vcpu", "vCPU per 1000 req/s"), table: { header, rows } },
    );
  }
  const runs = i.runs ?? [];
  if (comparesRuns(runs)) out.push(...runCharts(runs));
  return out;
}

/**
 * Side by side only when it compares something the other charts do not: a cluster's run, another mesh,
 * or one benchmark run twice (across time). Each local benchmark's latest run is already charted above.
 */
function comparesRuns(runs: BenchRun[]): boolean {
  const local = runs.filter((r) => r.environment.kind === "local" && r.mesh === "ambient-lab");
  return local.length < runs.length || new Set(local.map((r) => r.environment.name)).size < local.length;
}

/** How a run is named in the side-by-side charts: mesh, where, when. */
export function runLabel(r: BenchRun): string {
  return `${r.mesh}, ${r.environment.kind} ${r.environment.name}, ${r.environment.date.slice(0, 16).replace("T", " ")}`;
}

const MODE_ORDER = ["baseline", "sidecar", "ambient", "waypoint"];

/** Runs side by side: p50 and p99 per mode, and the proxies' CPU per 1000 req/s and memory where measured. */
function runCharts(runs: BenchRun[]): Chart[] {
  const labels = runs.map(runLabel);
  const rows = runs.flatMap((r, k) => Object.entries(r.modes).map(([mode, m]) => ({ run: labels[k]!, mode, scenario: r.scenario, m })));
  const lat = rows.filter((x) => x.m.latencyMs);
  const latencyValues = lat.flatMap((x) => (["p50", "p99"] as const).map((p) => ({ run: x.run, mode: `${x.mode} ${p}`, ms: x.m.latencyMs![p] })));
  const modeSort = MODE_ORDER.flatMap((m) => [`${m} p50`, `${m} p99`]);
  const scenarios = [...new Set(runs.map((r) => `${r.scenario.rate} req/s over ${r.scenario.connections} connections, ${r.scenario.payloadBytes} B`))];
  const caption = `Each run as its benchmark recorded it (${scenarios.join("; ")}); runs with different scenarios compare only roughly.`;
  const out: Chart[] = [];
  if (lat.length)
    out.push({
      id: "runs-latency",
      title: "Runs side by side: latency per mode",
      caption,
      spec: barSpec(latencyValues, { field: "mode", sort: modeSort }, { field: "run", sort: labels }, { field: "ms", title: "latency (ms)" }),
      table: {
        header: ["run", "mode", "achieved req/s", "errors", "p50 ms", "p90 ms", "p99 ms"],
        rows: lat.map((x) => [
          x.run,
          x.mode,
          r2(x.m.achievedRate),
          `${r2(x.m.errorRate * 100)}%`,
          r2(x.m.latencyMs!.p50),
          r2(x.m.latencyMs!.p90),
          r2(x.m.latencyMs!.p99),
        ]),
      },
    });
  const cost = rows.filter((x) => x.m.proxies.cpuPer1000Requests !== null);
  if (cost.length)
    out.push({
      id: "runs-proxy-cpu",
      title: "Runs side by side: mesh proxies' CPU per 1000 req/s",
      caption: `${caption} The proxies each figure covers are listed; a cluster's figures sum every proxy container.`,
      spec: barSpec(
        cost.map((x) => ({ run: x.run, mode: x.mode, vcpu: x.m.proxies.cpuPer1000Requests })),
        { field: "mode", sort: MODE_ORDER },
        { field: "run", sort: labels },
        { field: "vcpu", title: "vCPU per 1000 req/s" },
      ),
      table: {
        header: ["run", "mode", "proxies", "vCPU per 1000 req/s", "largest proxy MB"],
        rows: cost.map((x) => [
          x.run,
          x.mode,
          x.m.proxies.measured.join(", "),
          r2(x.m.proxies.cpuPer1000Requests!),
          x.m.proxies.memoryMb === null ? "-" : r2(x.m.proxies.memoryMb),
        ]),
      },
    });
  return out;
}
