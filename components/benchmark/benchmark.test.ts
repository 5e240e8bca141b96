import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { BenchSummary } from "../../mesh/manifests/benchmark.ts";
import { installMocks, valueOf } from "../testing/mocks.ts";

const log = readFileSync(join(import.meta.dirname, "..", "..", "mesh", "manifests", "testdata", "k6-ambient.log"), "utf8");
const registered = installMocks({
  outputs: (type, name) => {
    const mode = /bench-(\w+)-results/.exec(name)?.[1];
    return type === "command:local:Command" && mode ? { stdout: log.replace('"mode":"ambient"', `"mode":"${mode}"`) } : undefined;
  },
});

let mod: typeof import("./index.ts");
beforeAll(async () => {
  mod = await import("./index.ts");
});

describe("Benchmark component", () => {
  it("runs a k6 Job per mode in order and exports each mode's summary from its log", async () => {
    const b = new mod.Benchmark("bench", { modes: ["baseline", "ambient"], rate: 1000, duration: "60s", connections: 4, payloadBytes: 1024, k6Version: "1.1.0", kubeconfig: "apiVersion: v1" });
    const results: Record<string, BenchSummary> = await valueOf(b.results);
    expect(Object.keys(results)).toEqual(["baseline", "ambient"]);
    expect(results.ambient).toMatchObject({ mode: "ambient", achievedRate: 999.6, latencyMs: { p99: 4.8 } });
    const jobs = registered.filter((r) => r.type === "kubernetes:batch/v1:Job").map((r) => (r.inputs.metadata as { namespace: string }).namespace);
    expect(jobs).toEqual(["baseline", "ambient-demo"]);
    const cmd = registered.find((r) => r.name === "bench-ambient-results")!;
    expect(String(cmd.inputs.create)).toContain("wait --for=condition=complete --timeout=30m job/k6-ambient");
  });

  it("refuses an empty mode list", () => {
    expect(() => new mod.Benchmark("x", { modes: [], rate: 1, duration: "1s", connections: 1, payloadBytes: 1, k6Version: "1.1.0", kubeconfig: "" })).toThrow(/at least one/);
  });
});
