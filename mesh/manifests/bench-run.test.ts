// The one benchmark-run schema: what it accepts and rejects, the Kubernetes mode built from k6 and
// Prometheus, and the published JSON Schema (docs/bench-run.schema.json, golden).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { expectGolden } from "../testing/expect.ts";
import { BENCH_RUN_SCHEMA, benchRunJsonSchema, kubernetesModeRun, parseBenchRun } from "./bench-run.ts";
import { parseBenchLog } from "./benchmark.ts";

const summary = parseBenchLog(readFileSync(join(import.meta.dirname, "testdata", "k6-ambient.log"), "utf8"));
const run = (modes: object, extra: object = {}) => ({
  schema: BENCH_RUN_SCHEMA,
  mesh: "ambient-lab",
  environment: { kind: "kubernetes", name: "dev", date: summary.date },
  scenario: { rate: 1000, connections: 4, payloadBytes: 1024, durationSeconds: 60 },
  modes,
  ...extra,
});

describe("benchmark runs (issue 15)", () => {
  it("makes a Kubernetes mode from k6's summary and Prometheus's answers, null where there is no monitoring", () => {
    expect(kubernetesModeRun(summary, { cpuCores: 0.25, memoryBytes: 52428800 }).proxies).toEqual({
      measured: ["ztunnel", "waypoint", "sidecar"],
      cpuCores: 0.25,
      cpuPer1000Requests: 0.2501,
      memoryMb: 50,
    });
    expect(kubernetesModeRun(summary, { cpuCores: null, memoryBytes: null }).proxies).toEqual({
      measured: [],
      cpuCores: null,
      cpuPer1000Requests: null,
      memoryMb: null,
    });
    const ok = parseBenchRun(run({ ambient: kubernetesModeRun(summary, { cpuCores: 0.25, memoryBytes: 1 }) }), "t");
    expect(ok.modes.ambient!.latencyMs!.p95).toBe(2.05);
  });

  it("rejects what the report could not read, naming each field", () => {
    const mode = kubernetesModeRun(summary, { cpuCores: null, memoryBytes: null });
    const cases: Array<[object, RegExp]> = [
      [run({}), /modes: a run has at least one mode/],
      [run({ canary: mode }), /modes: Unrecognized key: "canary"$/],
      [run({ ambient: { ...mode, errorRate: 1.5 } }), /modes\.ambient\.errorRate/],
      [run({ ambient: { ...mode, achievedRate: Number.NaN } }), /modes\.ambient\.achievedRate/],
      [run({ ambient: { ...mode, proxies: { ...mode.proxies, measured: ["envoy"] } } }), /modes\.ambient\.proxies\.measured\.0/],
      [run({ ambient: mode }, { mesh: "linkerd" }), /mesh/],
      [run({ ambient: mode }, { environment: { kind: "kubernetes", name: "dev", date: "yesterday" } }), /environment\.date/],
      [run({ ambient: mode }, { extra: 1 }), /Unrecognized key/],
      [run({ ambient: mode }, { schema: "ambient-lab/bench-run/v0" }), /schema/],
    ];
    for (const [value, problem] of cases) expect(() => parseBenchRun(value, "x.json"), problem.source).toThrow(problem);
  });

  it("publishes the schema as JSON Schema for tools outside the repository (golden)", () => {
    const path = join(import.meta.dirname, "..", "..", "docs", "bench-run.schema.json");
    expectGolden(path, JSON.stringify(benchRunJsonSchema(), null, 2) + "\n");
  });
});
