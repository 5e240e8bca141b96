// Benchmark: the k6 script as a ConfigMap, one k6 Job per mode run one after another on the
// load-generator node, each Job's summary read back (kubectl wait + logs through @pulumi/command) and
// exported per mode: achieved rate, p50/p90/p95/p99, error rate.
import { readFileSync } from "node:fs";
import * as command from "@pulumi/command";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { benchmarkJob, MODE_NAMESPACES, parseBenchLog, scriptConfigMap, type BenchMode, type BenchSettings, type BenchSummary } from "../../mesh/manifests/benchmark.ts";

const SCRIPT = readFileSync(new URL("../../bench/k6/http-bench.ts", import.meta.url), "utf8");

export interface BenchmarkArgs extends BenchSettings {
  /** Modes to run, in order. */
  modes: BenchMode[];
  /** The cluster's kubeconfig, for reading results back with kubectl. */
  kubeconfig: pulumi.Input<string>;
  /** The samples (targets and namespaces) the benchmark needs. */
  dependsOn?: pulumi.Resource[];
}

export class Benchmark extends pulumi.ComponentResource {
  public readonly results: pulumi.Output<Record<string, BenchSummary>>;

  constructor(name: string, args: BenchmarkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ambient-lab:benchmark:Benchmark", name, {}, opts);
    if (args.modes.length === 0) throw new pulumi.ResourceError("modes must name at least one of baseline, sidecar, ambient", this);
    let previous: pulumi.Resource[] = args.dependsOn ?? [];
    const results: Array<pulumi.Output<[string, BenchSummary]>> = [];
    for (const mode of args.modes) {
      const ns = MODE_NAMESPACES[mode];
      const cm = new k8s.core.v1.ConfigMap(`${name}-${mode}-script`, scriptConfigMap(ns, SCRIPT) as never, { parent: this, dependsOn: previous });
      const job = new k8s.batch.v1.Job(`${name}-${mode}-job`, benchmarkJob(mode, args) as never, { parent: this, dependsOn: [cm], customTimeouts: { create: "30m" } });
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
          triggers: [job.id],
        },
        { parent: this, dependsOn: [job] },
      );
      results.push(readback.stdout.apply((log) => [mode, parseBenchLog(log)] as [string, BenchSummary]));
      // Modes run one after another: the next waits for this one's results.
      previous = [readback];
    }
    this.results = pulumi.all(results).apply((entries) => Object.fromEntries(entries));
    this.registerOutputs({ results: this.results });
  }
}
