import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { type BenchRun, parseBenchRun } from "../../mesh/manifests/index.ts";
import { installMocks, promResponse, valueOf } from "../testing/mocks.ts";

const log = readFileSync(join(import.meta.dirname, "..", "..", "mesh", "manifests", "testdata", "k6-ambient.log"), "utf8");
const registered = installMocks({
  outputs: (type, name) => {
    if (type !== "command:local:Command") return undefined;
    const mode = /-(\w+)-results$/.exec(name)?.[1];
    if (mode) return { stdout: log.replace('"mode":"ambient"', `"mode":"${mode}"`) };
    if (name.endsWith("-usage")) return { stdout: `${promResponse("0.12")}\n${promResponse("73400320")}\n` };
    return undefined;
  },
});

let mod: typeof import("./index.ts");
beforeAll(async () => {
  mod = await import("./index.ts");
});

describe("Benchmark component", () => {
  it("runs a k6 Job per mode in order and exports each mode's summary from its log", async () => {
    const b = new mod.Benchmark("bench", {
      modes: ["baseline", "ambient"],
      rate: 1000,
      duration: "60s",
      connections: 4,
      payloadBytes: 1024,
      k6Version: "1.1.0",
      kubeconfig: "apiVersion: v1",
    });
    const run: BenchRun = await valueOf(b.results);
    // The same schema the local benchmarks' runs follow, so the report reads both.
    expect(parseBenchRun(JSON.parse(JSON.stringify(run)), "the output")).toEqual(run);
    expect(run).toMatchObject({
      schema: "ambient-lab/bench-run/v1",
      mesh: "ambient-lab",
      environment: { kind: "kubernetes", name: "test", date: "2026-11-22T10:01:02.345Z" },
      scenario: { rate: 1000, connections: 4, payloadBytes: 1024, durationSeconds: 60 },
    });
    expect(Object.keys(run.modes)).toEqual(["baseline", "ambient"]);
    expect(run.modes.ambient).toEqual({
      requestedRate: 1000,
      achievedRate: 999.6,
      requests: 59976,
      errorRate: 0,
      latencyMs: { p50: 0.91, p90: 1.62, p95: 2.05, p99: 4.8, max: 37.2 },
      proxies: { measured: [], cpuCores: null, cpuPer1000Requests: null, memoryMb: null },
    });
    const jobs = registered.filter((r) => r.type === "kubernetes:batch/v1:Job").map((r) => (r.inputs.metadata as { namespace: string }).namespace);
    expect(jobs).toEqual(["baseline", "ambient-demo"]);
    const cmd = registered.find((r) => r.name === "bench-ambient-results")!;
    expect(String(cmd.inputs.create)).toContain("wait --for=condition=complete --timeout=30m job/k6-ambient");
  });

  it("with monitoring, adds the mesh proxies' CPU and memory during each run from Prometheus", async () => {
    const b = new mod.Benchmark("mon", {
      modes: ["ambient"],
      rate: 1000,
      duration: "60s",
      connections: 4,
      payloadBytes: 1024,
      k6Version: "1.1.0",
      kubeconfig: "apiVersion: v1",
      proxyUsage: { prometheusNamespace: "monitoring", prometheusService: "kps-prometheus" },
    });
    const run: BenchRun = await valueOf(b.results);
    expect(run.modes.ambient!.proxies).toEqual({ measured: ["ztunnel", "waypoint", "sidecar"], cpuCores: 0.12, cpuPer1000Requests: 0.12, memoryMb: 70 });
    const usage = registered.find((r) => r.name === "mon-ambient-usage")!;
    expect(String(usage.inputs.create)).toContain(
      "/api/v1/namespaces/monitoring/services/kps-prometheus:9090/proxy/api/v1/query?query=sum(rate(container_cpu_usage_seconds_total",
    );
  });

  it("reads results back again whenever what runs changes, and never leaves a Job for a TTL to delete (issue 10, problem 5)", async () => {
    const make = (name: string, rate: number) =>
      new mod.Benchmark(name, {
        modes: ["ambient"],
        rate,
        duration: "60s",
        connections: 4,
        payloadBytes: 1024,
        k6Version: "1.1.0",
        kubeconfig: "apiVersion: v1",
      });
    await Promise.all([valueOf(make("r1", 1000).results), valueOf(make("r2", 1000).results), valueOf(make("r3", 500).results)]);
    const trigger = (n: string) => JSON.stringify(registered.find((r) => r.name === `${n}-ambient-results`)!.inputs.triggers);
    expect(trigger("r1")).toBe(trigger("r2"));
    expect(trigger("r1")).not.toBe(trigger("r3"));
    expect(trigger("r1")).not.toContain("k6-ambient"); // not the Job's id, which is the same every run
    const job = registered.find((r) => r.name === "r1-ambient-job")!;
    expect((job.inputs.spec as Record<string, unknown>).ttlSecondsAfterFinished).toBeUndefined();
  });

  it("refuses an empty mode list", () => {
    expect(() => new mod.Benchmark("x", { modes: [], rate: 1, duration: "1s", connections: 1, payloadBytes: 1, k6Version: "1.1.0", kubeconfig: "" })).toThrow(
      /at least one/,
    );
  });
});
