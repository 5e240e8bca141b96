// The project's scripts as users run them: every one answers --help (exit 0, before it needs any tool),
// refuses an unknown option with a message and the usage (exit 2, no stack trace), and cleanup drives
// the Pulumi and kind CLIs as documented: destroy, then delete the stack's kind cluster only if it is
// still listed, reporting a failed destroy. The two CLIs are stand-ins on PATH that record their
// arguments; their output is what the real ones print (kind get clusters: one name per line).
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..");
const SCRIPTS = [
  "scripts/fuzz.ts",
  "scripts/gen-api.ts",
  "scripts/prereqs.ts",
  "scripts/render.ts",
  "scripts/pulumi.ts",
  "scripts/images.ts",
  "bench/ztunnel-bench.ts",
  "bench/waypoint-bench.ts",
  "bench/control-plane-bench.ts",
  "bench/soak.ts",
  "bench/capacity-sweep.ts",
  "bench/module-rss.ts",
  "mesh/local/demo-main.ts",
  "mesh/build.ts",
  "mesh/local/cli.ts",
];
const node = (args: string[], env: NodeJS.ProcessEnv = process.env) => spawnSync(process.execPath, args, { cwd: root, encoding: "utf8", env, timeout: 30_000 });

describe("every script", () => {
  it.each(SCRIPTS)("%s answers --help and refuses an unknown option", (script) => {
    const help = node([script, "--help"]);
    expect(help.status, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/usage|ambientctl/i);
    const bad = node([script, "--no-such-option"]);
    expect(bad.status, bad.stdout + bad.stderr).toBe(2);
    expect(bad.stderr).toContain("--no-such-option");
    expect(bad.stderr).not.toMatch(/^\s+at /m);
  });
});

describe("npm run cleanup", () => {
  const bin = mkdtempSync(join(tmpdir(), "al-bin-"));
  afterAll(() => rmSync(bin, { recursive: true, force: true }));
  const log = join(bin, "calls.log");
  for (const tool of ["pulumi", "kind"]) {
    writeFileSync(
      join(bin, tool),
      `#!/bin/sh\necho "${tool} $*" >> "${log}"\nif [ "$1 $2" = "get clusters" ]; then printf '%s\\n' $KIND_CLUSTERS; fi\nif [ "${tool}" = pulumi ]; then exit \${PULUMI_EXIT:-0}; fi\n`,
    );
    chmodSync(join(bin, tool), 0o755);
  }
  const cleanup = (env: Record<string, string>) => {
    rmSync(log, { force: true });
    const r = node(["scripts/pulumi.ts", "cleanup", "--stack", "dev"], { ...process.env, PATH: `${bin}:${process.env.PATH}`, ...env });
    return { ...r, calls: readFileSync(log, "utf8").trim().split("\n") };
  };

  it("destroys the stack, then deletes its kind cluster (named in Pulumi.dev.yaml) when it is still there", () => {
    const r = cleanup({ KIND_CLUSTERS: "other ambient-lab" });
    expect(r.status, r.stderr).toBe(0);
    expect(r.calls).toEqual(["pulumi destroy --stack dev --yes", "kind get clusters", "kind delete cluster --name ambient-lab"]);
    expect(cleanup({ KIND_CLUSTERS: "other" }).calls).toEqual(["pulumi destroy --stack dev --yes", "kind get clusters"]);
  });

  it("still removes the cluster when the destroy fails, and says so with exit 1", () => {
    const r = cleanup({ KIND_CLUSTERS: "ambient-lab", PULUMI_EXIT: "255" });
    expect(r.status).toBe(1);
    expect(r.calls).toContain("kind delete cluster --name ambient-lab");
    expect(r.stderr).toContain("pulumi destroy failed (exit 255); the stack still records resources");
  });
});
