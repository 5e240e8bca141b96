// Pure: the k6 Job for one benchmark mode, and reading its summary back from the Job's log.
import type { KubeObject } from "./mesh.ts";
import { injectSidecar, SIDECAR_CONTAINER, type SidecarOptions } from "./sidecar.ts";
import { textTable } from "../shared/index.ts";
import type { BenchRun } from "./bench-run.ts";
import { ISTIO_PROXY_CONTAINER } from "./istio.ts";

export type BenchMode = "baseline" | "sidecar" | "ambient" | "waypoint";

export const MODE_NAMESPACES: Record<BenchMode, string> = { baseline: "baseline", sidecar: "sidecar-demo", ambient: "ambient-demo", waypoint: "waypoint-demo" };

export interface BenchSettings {
  rate: number;
  duration: string;
  connections: number;
  payloadBytes: number;
  k6Version: string;
}

export const SCRIPT_CONFIGMAP = "ambient-lab-k6";

/**
 * The sidecar mode's Job gets the sidecar too (a native sidecar, so the Job still completes).
 * `ttlSecondsAfterFinished` is for Jobs applied by hand (the GitOps benchmark folder); a Job Pulumi
 * manages must not have one: once the TTL deleted it, a refresh would see it gone and the next `up`
 * would rerun the benchmark without being asked.
 */
export function benchmarkJob<I = string>(
  mode: BenchMode,
  s: BenchSettings,
  sidecar?: SidecarOptions<I>,
  opts: { ttlSecondsAfterFinished?: number } = { ttlSecondsAfterFinished: 3600 },
): KubeObject {
  const job = plainJob(mode, s, opts.ttlSecondsAfterFinished);
  return mode === "sidecar" && sidecar ? injectSidecar(job, sidecar) : job;
}

function plainJob(mode: BenchMode, s: BenchSettings, ttl: number | undefined): KubeObject {
  const ns = MODE_NAMESPACES[mode];
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name: `k6-${mode}`, namespace: ns, labels: { "app.kubernetes.io/part-of": "ambient-lab", "ambient-lab.io/benchmark": mode } },
    spec: {
      // One run, no retries: a failed benchmark is reported, not silently repeated.
      backoffLimit: 0,
      ...(ttl !== undefined ? { ttlSecondsAfterFinished: ttl } : {}),
      template: {
        metadata: { labels: { app: "k6", "ambient-lab.io/benchmark": mode } },
        spec: {
          restartPolicy: "Never",
          serviceAccountName: "sleep",
          // Preferred, not required: our clusters have a tainted load-generator node (the toleration
          // lets k6 on it); on any other cluster a required selector would leave the Job Pending forever.
          affinity: {
            nodeAffinity: {
              preferredDuringSchedulingIgnoredDuringExecution: [
                { weight: 100, preference: { matchExpressions: [{ key: "ambient-lab.io/role", operator: "In", values: ["loadgen"] }] } },
              ],
            },
          },
          tolerations: [{ key: "ambient-lab.io/loadgen", operator: "Equal", value: "true", effect: "NoSchedule" }],
          containers: [
            {
              name: "k6",
              image: `grafana/k6:${s.k6Version}`,
              args: ["run", "--quiet", "/scripts/http-bench.ts"],
              env: [
                { name: "MODE", value: mode },
                { name: "RATE", value: String(s.rate) },
                { name: "DURATION", value: s.duration },
                { name: "CONNECTIONS", value: String(s.connections) },
                { name: "TARGET_URL", value: `http://httpbin.${ns}.svc.cluster.local:8000/bytes/${s.payloadBytes}` },
              ],
              volumeMounts: [{ name: "scripts", mountPath: "/scripts", readOnly: true }],
              resources: { requests: { cpu: "500m", memory: "128Mi" } },
              // Pod Security "restricted"; the image's USER is a name (k6), so the uid is given (kubelet-rules.ts).
              securityContext: {
                runAsNonRoot: true,
                runAsUser: 12345,
                runAsGroup: 12345,
                allowPrivilegeEscalation: false,
                capabilities: { drop: ["ALL"] },
                seccompProfile: { type: "RuntimeDefault" },
              },
            },
          ],
          volumes: [{ name: "scripts", configMap: { name: SCRIPT_CONFIGMAP } }],
        },
      },
    },
  };
}

export function scriptConfigMap(namespace: string, script: string): KubeObject {
  return { apiVersion: "v1", kind: "ConfigMap", metadata: { name: SCRIPT_CONFIGMAP, namespace }, data: { "http-bench.ts": script } };
}

export interface BenchSummary {
  mode: string;
  /** When k6 finished (ISO 8601). */
  date: string;
  requestedRate: number;
  achievedRate: number;
  requests: number;
  errorRate: number;
  droppedIterations: number;
  latencyMs: { p50: number; p90: number; p95: number; p99: number; max: number } | null;
}

/** Finds the marker line in a k6 Job's log. Throws with the log's tail when there is none. */
export function parseBenchLog(log: string): BenchSummary {
  const line = log.split("\n").find((l) => l.startsWith("AMBIENT_LAB_SUMMARY "));
  if (!line) throw new Error(`no AMBIENT_LAB_SUMMARY line in the k6 log; its last lines:\n${log.trim().split("\n").slice(-5).join("\n")}`);
  const s = JSON.parse(line.slice("AMBIENT_LAB_SUMMARY ".length)) as BenchSummary;
  if (typeof s.achievedRate !== "number" || typeof s.errorRate !== "number") throw new Error("the k6 summary line lacks achievedRate or errorRate");
  if (typeof s.date !== "string")
    throw new Error("the k6 summary line lacks its date: the ConfigMap holds an older bench/k6/http-bench.ts; run `pulumi up` again");
  return s;
}

/** cAdvisor's selector for every mesh proxy container: ztunnels, waypoints and injected sidecars. */
export const PROXY_CONTAINERS = `container=~"ztunnel|waypoint|${SIDECAR_CONTAINER}"`;
/** Istio runs every proxy (ztunnel, waypoints, sidecars) in a container named istio-proxy. */
export const ISTIO_PROXY_CONTAINERS = `container="${ISTIO_PROXY_CONTAINER}"`;

/**
 * PromQL for the mesh proxies' cost during a run: CPU cores (summed) and the largest working set, over
 * every proxy container (the names are the mesh's own, so no namespace filter is needed).
 */
export function proxyUsageQueries(window: string, mesh: "ambient-lab" | "istio" = "ambient-lab"): { cpuCores: string; memoryBytes: string } {
  const sel = mesh === "istio" ? ISTIO_PROXY_CONTAINERS : PROXY_CONTAINERS;
  return {
    cpuCores: `sum(rate(container_cpu_usage_seconds_total{${sel}}[${window}]))`,
    memoryBytes: `max(max_over_time(container_memory_working_set_bytes{${sel}}[${window}]))`,
  };
}

/** The API-server proxy path to Prometheus's query API (no port-forward needed). */
export function prometheusQueryPath(promNamespace: string, promService: string, query: string): string {
  return `/api/v1/namespaces/${promNamespace}/services/${promService}:9090/proxy/api/v1/query?query=${encodeURIComponent(query)}`;
}

/** The scalar of a Prometheus instant-query response, or null when it has no sample. */
export function parsePromScalar(body: string): number | null {
  const r = JSON.parse(body) as { status?: string; data?: { result?: Array<{ value?: [number, string] }> } };
  if (r.status !== "success") throw new Error(`Prometheus query failed: ${body.slice(0, 200)}`);
  const v = r.data?.result?.[0]?.value?.[1];
  return v === undefined ? null : Number(v);
}

/** Pure: a benchmark run (the stack output `benchmarkResults`, or a local run) as a table, for `ambientctl bench results`. */
export function renderBenchTable(run: BenchRun): string {
  const cols = ["mode", "req/s (asked)", "errors", "p50 ms", "p90 ms", "p99 ms", "proxy vCPU", "vCPU/1000 req/s", "proxy MB"];
  const fmt = (n: number | null | undefined, d = 2) => (n === null || n === undefined ? "-" : String(Math.round(n * 10 ** d) / 10 ** d));
  const rows = Object.entries(run.modes).map(([mode, r]) => [
    mode,
    `${fmt(r.achievedRate, 1)} (${r.requestedRate})`,
    `${fmt(r.errorRate * 100, 2)}%`,
    fmt(r.latencyMs?.p50),
    fmt(r.latencyMs?.p90),
    fmt(r.latencyMs?.p99),
    fmt(r.proxies.cpuCores, 3),
    fmt(r.proxies.cpuPer1000Requests, 3),
    fmt(r.proxies.memoryMb, 1),
  ]);
  const e = run.environment;
  const s = run.scenario;
  const head = `${run.mesh} on ${e.kind} ${e.name}, ${e.date}: ${s.rate} req/s over ${s.connections} connections, ${s.payloadBytes} B, ${s.durationSeconds} s\n`;
  return head + textTable(cols, rows);
}
