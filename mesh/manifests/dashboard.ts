// Pure: the mesh's Grafana dashboard (JSON model, schemaVersion 39). Panels read Istio's standard
// metric names, which our ztunnel and waypoint export, plus cAdvisor's container usage for the proxies.
import { MODE_NAMESPACES, PROXY_CONTAINERS } from "./benchmark.ts";
import { SIDECAR_CONTAINER } from "./sidecar.ts";

export interface Panel {
  title: string;
  unit: string;
  /** PromQL and its legend; checked with promtool in the tests. */
  targets: { expr: string; legend: string }[];
}

/** A proxy container's mode as the report names it: the node's ztunnel (ambient), a waypoint, a sidecar. */
function byMode(series: string): string {
  const tag = (inner: string, mode: string, container: string) => `label_replace(${inner}, "mode", "${mode}", "container", "${container}")`;
  return `sum by (mode) (${tag(tag(tag(series, "ambient (ztunnel)", "ztunnel"), "waypoint", "waypoint"), "sidecar", SIDECAR_CONTAINER)})`;
}

/** Application pods (containers other than the proxy) running in a namespace. */
function appPods(namespace: string): string {
  return `count(count by (pod) (container_memory_working_set_bytes{namespace="${namespace}", container!="", container!="POD", container!="${SIDECAR_CONTAINER}"}))`;
}

const BY_WORKLOAD = "source_workload_namespace, source_workload, destination_workload_namespace, destination_workload";

export const PANELS: Panel[] = [
  {
    title: "HTTP requests by source and destination (waypoints)",
    unit: "reqps",
    targets: [
      {
        expr: `sum by (source_workload, destination_service) (rate(istio_requests_total{reporter="waypoint"}[1m]))`,
        legend: "{{source_workload}} → {{destination_service}}",
      },
    ],
  },
  {
    title: "TCP bytes by source and destination",
    unit: "Bps",
    targets: [
      {
        expr: `sum by (${BY_WORKLOAD}) (rate(istio_tcp_received_bytes_total{reporter="destination"}[1m]))`,
        legend: "{{source_workload}} → {{destination_workload}} (request)",
      },
      {
        expr: `sum by (${BY_WORKLOAD}) (rate(istio_tcp_sent_bytes_total{reporter="destination"}[1m]))`,
        legend: "{{source_workload}} ← {{destination_workload}} (response)",
      },
    ],
  },
  {
    title: "Connections",
    unit: "short",
    targets: [
      { expr: `sum by (reporter) (rate(istio_tcp_connections_opened_total[1m]))`, legend: "opened/s ({{reporter}})" },
      { expr: `sum by (direction) (istio_tcp_sockets_open)`, legend: "open now ({{direction}})" },
    ],
  },
  {
    title: "Policy denials",
    unit: "short",
    targets: [
      {
        expr: `sum by (${BY_WORKLOAD}) (rate(istio_tcp_connections_failed_total{response_flags="DENY"}[1m]))`,
        legend: "L4 {{source_workload}} → {{destination_workload}}",
      },
      {
        expr: `sum by (source_workload, destination_service) (rate(istio_requests_total{response_code="403"}[1m]))`,
        legend: "L7 {{source_workload}} → {{destination_service}}",
      },
    ],
  },
  {
    title: "Proxy CPU",
    unit: "cores",
    targets: [{ expr: `sum by (namespace, pod) (rate(container_cpu_usage_seconds_total{${PROXY_CONTAINERS}}[1m]))`, legend: "{{namespace}}/{{pod}}" }],
  },
  {
    title: "Proxy memory",
    unit: "bytes",
    targets: [{ expr: `sum by (namespace, pod) (container_memory_working_set_bytes{${PROXY_CONTAINERS}})`, legend: "{{namespace}}/{{pod}}" }],
  },
  // The report's per-mode views (npm run report), live: what each mode's proxies cost.
  {
    title: "Proxy CPU per mode",
    unit: "cores",
    targets: [{ expr: byMode(`rate(container_cpu_usage_seconds_total{${PROXY_CONTAINERS}}[1m])`), legend: "{{mode}}" }],
  },
  {
    title: "Proxy memory per mode",
    unit: "bytes",
    targets: [{ expr: byMode(`container_memory_working_set_bytes{${PROXY_CONTAINERS}}`), legend: "{{mode}}" }],
  },
  {
    title: "Proxy memory per application pod, per mode",
    unit: "bytes",
    targets: [
      {
        // Ambient: the ztunnels' memory shared by the pods they serve (the samples' namespace).
        expr: `sum(container_memory_working_set_bytes{container="ztunnel"}) / ${appPods(MODE_NAMESPACES.ambient)}`,
        legend: `ambient (ztunnel / pods in ${MODE_NAMESPACES.ambient})`,
      },
      { expr: `avg(container_memory_working_set_bytes{container="${SIDECAR_CONTAINER}"})`, legend: "sidecar (one proxy per pod)" },
    ],
  },
  {
    title: "Control plane: config pushes and connected proxies",
    unit: "short",
    targets: [
      { expr: `sum by (type) (rate(pilot_xds_pushes_total[1m]))`, legend: "pushes/s {{type}}" },
      { expr: `sum(pilot_xds)`, legend: "connected proxies" },
    ],
  },
  {
    title: "Control plane: change to proxy p99",
    unit: "s",
    targets: [{ expr: `histogram_quantile(0.99, sum by (le) (rate(pilot_proxy_convergence_time_bucket[5m])))`, legend: "p99" }],
  },
];

export function meshDashboard(): Record<string, unknown> {
  const ds = { type: "prometheus", uid: "${datasource}" };
  return {
    uid: "ambient-lab-mesh",
    title: "ambient-lab mesh",
    tags: ["ambient-lab", "istio"],
    schemaVersion: 39,
    editable: true,
    refresh: "10s",
    time: { from: "now-30m", to: "now" },
    templating: { list: [{ name: "datasource", label: "Data source", type: "datasource", query: "prometheus", current: {} }] },
    // Two panels per row, 8 units tall.
    panels: PANELS.map((p, i) => ({
      id: i + 1,
      type: "timeseries",
      title: p.title,
      datasource: ds,
      gridPos: { x: (i % 2) * 12, y: Math.floor(i / 2) * 8, w: 12, h: 8 },
      fieldConfig: { defaults: { unit: p.unit }, overrides: [] },
      options: { legend: { displayMode: "table", placement: "bottom", calcs: ["mean", "max"] }, tooltip: { mode: "multi" } },
      targets: p.targets.map((t, j) => ({ refId: String.fromCharCode(65 + j), datasource: ds, expr: t.expr, legendFormat: t.legend })),
    })),
  };
}
