// Benchmark: the k6 script as a ConfigMap, one k6 Job per mode run one after another on the
// load-generator node, each Job's summary read back (kubectl wait + logs through @pulumi/command) and
// exported per mode: achieved rate, p50/p90/p95/p99, error rate, and (with monitoring) the ztunnels'
// CPU and memory during the run, queried from Prometheus through the API server's service proxy.
import { readFileSync } from "node:fs";
import { createHash } from "node:crypto";
import * as command from "@pulumi/command";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
  benchmarkJob,
  BENCH_RUN_SCHEMA,
  type BenchRun,
  kubernetesModeRun,
  type ModeRun,
  parseBenchRun,
  MODE_NAMESPACES,
  parseBenchLog,
  parsePromScalar,
  prometheusQueryPath,
  proxyUsageQueries,
  scriptConfigMap,
  type BenchMode,
  type BenchSettings,
} from "../../mesh/manifests/index.ts";
import type { SidecarOptions } from "../../mesh/manifests/index.ts";

const SCRIPT = readFileSync(new URL("../../bench/k6/http-bench.ts", import.meta.url), "utf8");

export interface BenchmarkArgs extends BenchSettings {
  /** The sidecar mode's load generator runs with the sidecar proxy too. */
  sidecar?: SidecarOptions<pulumi.Input<string>>;
  /** Modes to run, in order. */
  modes: BenchMode[];
  /** The cluster's kubeconfig, for reading results back with kubectl. */
  kubeconfig: pulumi.Input<string>;
  /** The samples (targets and namespaces) the benchmark needs. */
  dependsOn?: pulumi.Resource[];
  /** With monitoring: read the mesh proxies' CPU and memory during each run from Prometheus. */
  proxyUsage?: { prometheusNamespace: pulumi.Input<string>; prometheusService: pulumi.Input<string> };
  /** Which mesh the cluster runs, named in the results. */
  mesh?: BenchRun["mesh"];
}

/** "60s" / "2m" -> seconds. */
function seconds(duration: string): number {
  const m = /^(\d+)([sm])$/.exec(duration);
  if (!m) throw new Error(`duration "${duration}" is not like 60s or 2m`);
  return Number(m[1]) * (m[2] === "m" ? 60 : 1);
}

export class Benchmark extends pulumi.ComponentResource {
  /** One benchmark run (mesh/manifests/bench-run.ts): the same shape and schema as the local benchmarks' runs. */
  public readonly results: pulumi.Output<BenchRun>;

  constructor(name: string, args: BenchmarkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ambient-lab:benchmark:Benchmark", name, {}, opts);
    if (args.modes.length === 0) throw new pulumi.ResourceError("modes must name at least one of baseline, sidecar, ambient, waypoint", this);
    let previous: pulumi.Resource[] = args.dependsOn ?? [];
    const results: Array<pulumi.Output<[string, ModeRun, string]>> = [];
    const window = `${seconds(args.duration) + 5}s`;
    for (const mode of args.modes) {
      const ns = MODE_NAMESPACES[mode];
      const cm = new k8s.core.v1.ConfigMap(`${name}-${mode}-script`, scriptConfigMap(ns, SCRIPT) as never, { parent: this, dependsOn: previous });
      const spec = benchmarkJob(mode, args, args.sidecar, {});
      // A Job's template is immutable and its name fixed: a changed run replaces it, deleting the old one first.
      const job = new k8s.batch.v1.Job(`${name}-${mode}-job`, spec as never, {
        parent: this,
        dependsOn: [cm],
        customTimeouts: { create: "30m" },
        deleteBeforeReplace: true,
      });
      // The results follow what ran: the Job's content and the script, not its id (the same ns/name every run).
      const runKey = (pulumi.output(spec as Record<string, unknown>) as pulumi.Output<unknown>).apply((j: unknown) =>
        createHash("sha256").update(JSON.stringify(j)).update(SCRIPT).digest("hex"),
      );
      const jobName = `k6-${mode}`;
      // The Job runs for the benchmark's duration; wait for it, then read its log (the summary line).
      const readback = new command.local.Command(
        `${name}-${mode}-results`,
        {
          create: [
            'f=$(mktemp) && printf "%s" "$KUBECONFIG_DATA" > "$f"',
            `kubectl --kubeconfig "$f" -n ${ns} wait --for=condition=complete --timeout=30m job/${jobName}`,
            `kubectl --kubeconfig "$f" -n ${ns} logs job/${jobName}; rc=$?; rm -f "$f"; exit $rc`,
          ].join(" && "),
          environment: { KUBECONFIG_DATA: args.kubeconfig },
          triggers: [runKey],
        },
        { parent: this, dependsOn: [job] },
      );
      let usage: pulumi.Output<{ cpuCores: number | null; memoryBytes: number | null }> = pulumi.output({ cpuCores: null, memoryBytes: null });
      let last: pulumi.Resource = readback;
      if (args.proxyUsage) {
        const u = args.proxyUsage;
        const q = proxyUsageQueries(window, args.mesh ?? "ambient-lab");
        const path = (query: string) =>
          pulumi.all([u.prometheusNamespace, u.prometheusService, query]).apply(([pns, svc, qq]) => prometheusQueryPath(pns, svc, qq));
        const query = new command.local.Command(
          `${name}-${mode}-usage`,
          {
            // Right after the run, so the window covers it; one JSON response per line.
            create: pulumi.interpolate`f=$(mktemp) && printf "%s" "$KUBECONFIG_DATA" > "$f" && kubectl --kubeconfig "$f" get --raw '${path(q.cpuCores)}' && echo && kubectl --kubeconfig "$f" get --raw '${path(q.memoryBytes)}'; rc=$?; rm -f "$f"; exit $rc`,
            environment: { KUBECONFIG_DATA: args.kubeconfig },
            triggers: [runKey],
          },
          { parent: this, dependsOn: [readback] },
        );
        usage = query.stdout.apply((out) => {
          const [cpu, mem] = (out ?? "").trim().split("\n");
          if (!cpu || !mem) throw new Error(`expected two Prometheus responses from the usage query, got: ${String(out).slice(0, 200)}`);
          return { cpuCores: parsePromScalar(cpu), memoryBytes: parsePromScalar(mem) };
        });
        last = query;
      }
      results.push(
        pulumi.all([readback.stdout, usage]).apply(([log, use]) => {
          const summary = parseBenchLog(log);
          return [mode, kubernetesModeRun(summary, use), summary.date] as [string, ModeRun, string];
        }),
      );
      // Modes run one after another: the next waits for this one's results.
      previous = [last];
    }
    const scenario = { rate: args.rate, connections: args.connections, payloadBytes: args.payloadBytes, durationSeconds: seconds(args.duration) };
    const stack = pulumi.getStack();
    // Validated here too: a run that would not read back in the report fails the deploy, naming the field.
    this.results = pulumi.all(results).apply((entries) =>
      parseBenchRun(
        {
          schema: BENCH_RUN_SCHEMA,
          mesh: args.mesh ?? "ambient-lab",
          environment: { kind: "kubernetes", name: stack, date: entries[0]![2] },
          scenario,
          modes: Object.fromEntries(entries.map(([m, r]) => [m, r])),
        },
        `the benchmark results of stack ${stack}`,
      ),
    );
    this.registerOutputs({ results: this.results });
  }
}
