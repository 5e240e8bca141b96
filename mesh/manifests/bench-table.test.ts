// `ambientctl bench results`: the stack output rendered as a table (golden), and the CLI reading it.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { type BenchRun, type ModeRun, proxyCost } from "./bench-run.ts";
import { renderBenchTable } from "./benchmark.ts";
import { expectGolden } from "../testing/expect.ts";

const mode = (p50: number, cpu: number | null): ModeRun => ({
  requestedRate: 1000,
  achievedRate: 999.61,
  requests: 59_977,
  errorRate: 0.0001,
  latencyMs: { p50, p90: p50 * 2, p95: p50 * 3, p99: p50 * 5, max: p50 * 20 },
  proxies: proxyCost(cpu === null ? [] : ["ztunnel", "waypoint", "sidecar"], cpu, 999.61, cpu === null ? null : 71.3),
});
const outputs: BenchRun = {
  schema: "ambient-lab/bench-run/v1",
  mesh: "ambient-lab",
  environment: { kind: "kubernetes", name: "dev", date: "2026-11-22T10:01:02.345Z" },
  scenario: { rate: 1000, connections: 4, payloadBytes: 1024, durationSeconds: 60 },
  modes: { baseline: mode(0.41, null), ambient: mode(0.93, 0.137) },
};
const dir = mkdtempSync(join(tmpdir(), "al-bench-table-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("ambientctl bench results (issue 10)", () => {
  it("renders the stack output as a table (golden)", () => {
    const path = join(import.meta.dirname, "testdata", "bench-table.txt");
    const text = renderBenchTable(outputs);
    expectGolden(path, text);
  });

  it("prints it from a saved output, and says what to do without one", () => {
    const cli = fileURLToPath(new URL("../local/cli.ts", import.meta.url));
    const file = join(dir, "out.json");
    writeFileSync(file, JSON.stringify(outputs));
    const ok = spawnSync(process.execPath, [cli, "bench", "results", "--file", file], { encoding: "utf8" });
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toBe(renderBenchTable(outputs));
    writeFileSync(file, "{}");
    const empty = spawnSync(process.execPath, [cli, "bench", "results", "--file", file], { encoding: "utf8" });
    expect(empty.status).toBe(2);
    expect(empty.stderr).toMatch(/no benchmark results yet/);
    // A run in the old shape (per mode at the top) or with a bad figure is named, field by field.
    writeFileSync(file, JSON.stringify({ ambient: { mode: "ambient", achievedRate: 1 } }));
    const old = spawnSync(process.execPath, [cli, "bench", "results", "--file", file], { encoding: "utf8" });
    expect(old.status).toBe(2);
    expect(old.stderr).toMatch(/is not an ambient-lab\/bench-run\/v1 benchmark run[\s\S]*schema[\s\S]*run the benchmark again/);
    writeFileSync(file, JSON.stringify({ ...outputs, modes: { ambient: { ...outputs.modes.ambient, errorRate: 3 } } }));
    const bad = spawnSync(process.execPath, [cli, "bench", "results", "--file", file], { encoding: "utf8" });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/modes\.ambient\.errorRate/);
  });
});
