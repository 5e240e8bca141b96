// One shape for every benchmark run, on this machine or on a Kubernetes cluster: the stack output
// `benchmarkResults` is one, and each local benchmark writes one beside its own JSON (results/<bench>.run.json),
// so the report and CI compare runs across time, clusters and meshes with one reader. Validated on
// both sides: a run is checked when it is made (a malformed k6 log fails the deploy) and when it is read.
import { z } from "zod";
import type { BenchMode, BenchSummary } from "./benchmark.ts";

export const BENCH_RUN_SCHEMA = "ambient-lab/bench-run/v1";
export const BENCH_MODES = ["baseline", "sidecar", "ambient", "waypoint"] as const satisfies readonly BenchMode[];
export const PROXY_KINDS = ["ztunnel", "waypoint", "sidecar"] as const;

const nonNegative = z.number().finite().nonnegative();

const Latency = z.strictObject({
  p50: nonNegative,
  p90: nonNegative,
  p95: nonNegative.optional(),
  p99: nonNegative,
  max: nonNegative.optional(),
});

/** The mesh proxies' cost during one mode's run; null where it was not measured (`measured` says which were). */
const ProxyCost = z.strictObject({
  /** Which proxies the figures cover (Kubernetes: every proxy container in the cluster during the run). */
  measured: z.array(z.enum(PROXY_KINDS)),
  /** CPU cores, summed over the measured proxies. */
  cpuCores: nonNegative.nullable(),
  /** The same per 1000 requests per second achieved: vCPU per 1000 req/s, as Istio publishes it. */
  cpuPer1000Requests: nonNegative.nullable(),
  /** The largest measured proxy's memory (Kubernetes: working set; local: resident set), MB. */
  memoryMb: nonNegative.nullable(),
});

const ModeRun = z.strictObject({
  requestedRate: z.number().finite().positive(),
  achievedRate: nonNegative,
  requests: z.number().int().nonnegative(),
  /** Failed requests over all requests, 0..1. */
  errorRate: z.number().min(0).max(1),
  latencyMs: Latency.nullable(),
  proxies: ProxyCost,
});

export const BenchRunSchema = z.strictObject({
  schema: z.literal(BENCH_RUN_SCHEMA),
  /** Which mesh carried the traffic (the lab can also target upstream Istio). */
  mesh: z.enum(["ambient-lab", "istio"]),
  environment: z.strictObject({
    kind: z.enum(["local", "kubernetes"]),
    /** The stack (Kubernetes) or the benchmark (local) that produced the run. */
    name: z.string().min(1),
    /** When the load ran, ISO 8601: a date and time (k6), or a day (the local benchmarks' machine record). */
    date: z.union([z.iso.datetime({ offset: true }), z.iso.date()]),
    cpus: z.number().int().positive().optional(),
  }),
  scenario: z.strictObject({
    rate: z.number().finite().positive(),
    connections: z.number().int().positive(),
    payloadBytes: z.number().int().nonnegative(),
    durationSeconds: z.number().finite().positive(),
  }),
  modes: z
    .partialRecord(z.enum(BENCH_MODES), ModeRun)
    .refine((m) => Object.keys(m).length > 0, { message: "a run has at least one mode", when: (p) => p.issues.length === 0 }),
});

export type BenchRun = z.infer<typeof BenchRunSchema>;
export type ModeRun = z.infer<typeof ModeRun>;
export type ProxyCost = z.infer<typeof ProxyCost>;

/** A run that does not match the schema, with every problem and its path. */
export class BenchRunError extends Error {
  override name = "BenchRunError";
}

/** Validates a parsed run; `source` names where it came from in the error. */
export function parseBenchRun(value: unknown, source: string): BenchRun {
  const r = BenchRunSchema.safeParse(value);
  if (r.success) return r.data;
  const problems = r.error.issues.map((i) => `  ${i.path.join(".") || "(top)"}: ${i.message}`).join("\n");
  const hint =
    value && typeof value === "object" && !("schema" in value)
      ? `\n(it has no "schema" field: results from before ${BENCH_RUN_SCHEMA} are not read; run the benchmark again)`
      : "";
  throw new BenchRunError(`${source} is not an ${BENCH_RUN_SCHEMA} benchmark run:\n${problems}${hint}`);
}

/** The schema as JSON Schema, for tools outside this repository (docs/bench-run.schema.json). */
export function benchRunJsonSchema(): object {
  return z.toJSONSchema(BenchRunSchema, { target: "draft-2020-12", unrepresentable: "any" });
}

const round = (n: number, d: number) => Math.round(n * 10 ** d) / 10 ** d;

/** A proxy cost from summed cores at an achieved rate. */
export function proxyCost(measured: ProxyCost["measured"], cpuCores: number | null, achievedRate: number, memoryMb: number | null): ProxyCost {
  return {
    measured,
    cpuCores: cpuCores === null ? null : round(cpuCores, 4),
    cpuPer1000Requests: cpuCores === null || achievedRate <= 0 ? null : round((cpuCores / achievedRate) * 1000, 4),
    memoryMb: memoryMb === null ? null : round(memoryMb, 1),
  };
}

/**
 * One Kubernetes mode: k6's summary and Prometheus's figures for every proxy container (cAdvisor), which
 * cover ztunnels, waypoints and sidecars alike; null figures when the cluster has no monitoring.
 */
export function kubernetesModeRun(s: BenchSummary, usage: { cpuCores: number | null; memoryBytes: number | null }): ModeRun {
  const monitored = usage.cpuCores !== null || usage.memoryBytes !== null;
  return {
    requestedRate: s.requestedRate,
    achievedRate: round(s.achievedRate, 3),
    requests: s.requests,
    errorRate: s.errorRate,
    latencyMs: s.latencyMs,
    proxies: proxyCost(monitored ? [...PROXY_KINDS] : [], usage.cpuCores, s.achievedRate, usage.memoryBytes === null ? null : usage.memoryBytes / 1048576),
  };
}
