import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import type { BenchSummary } from "../../mesh/manifests/benchmark.ts";

const log = readFileSync(join(import.meta.dirname, "..", "..", "mesh", "manifests", "testdata", "k6-ambient.log"), "utf8");
const registered: Array<{ type: string; name: string; inputs: Record<string, unknown> }> = [];
pulumi.runtime.setMocks(
  {
    newResource: (args) => {
      registered.push({ type: args.type, name: args.name, inputs: args.inputs });
      const mode = /bench-(\w+)-results/.exec(args.name)?.[1];
      const stdout = args.type === "command:local:Command" && mode ? { stdout: log.replace('"mode":"ambient"', `"mode":"${mode}"`) } : {};
      return { id: `${args.name}-id`, state: { ...args.inputs, ...stdout } };
    },
    call: (args) => args.inputs,
  },
  "ambient-lab",
  "dev",
);

let mod: typeof import("./index.ts");
beforeAll(async () => {
  mod = await import("./index.ts");
});

describe("Benchmark component", () => {
  it("runs a k6 Job per mode in order and exports each mode's summary from its log", async () => {
    const b = new mod.Benchmark("bench", { modes: ["baseline", "ambient"], rate: 1000, duration: "60s", connections: 4, payloadBytes: 1024, k6Version: "1.1.0", kubeconfig: "apiVersion: v1" });
    const results = await new Promise<Record<string, BenchSummary>>((r) => b.results.apply((v) => r(v)));
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
