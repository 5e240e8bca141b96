import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { efficientUntilConfigured, StartupEfficiency } from "./startup-efficiency.ts";
import { StateStore } from "./state/store.ts";

const EMPTY = { workloads: [], services: [], policies: [] };

/** Records the flags set, and what the module would log. */
function recorder(nodeOptions: string[] = []) {
  const flags: string[] = [];
  const logged: string[] = [];
  const log = { info: (m: string) => logged.push(m), debug: (m: string) => logged.push(m) };
  return { flags, logged, deps: { setFlags: (f: string) => flags.push(f), nodeOptions, log: log as never, now: () => 0 } };
}

describe("startup efficiency", () => {
  it("is on from the start until the store's first config, then off once", () => {
    const r = recorder();
    const store = new StateStore();
    const s = efficientUntilConfigured([store], true, r.deps);
    expect(r.flags).toEqual(["--efficiency-mode"]);
    expect(s.on).toBe(true);
    store.replace(EMPTY);
    expect(r.flags).toEqual(["--efficiency-mode", "--no-efficiency-mode"]);
    expect(s.on).toBe(false);
    store.replace({ ...EMPTY, policies: [] }, "changed");
    s.end();
    expect(r.flags).toHaveLength(2);
    expect(r.logged.at(-1)).toMatch(/first config is applied after 0 ms: V8 back to its defaults/);
  });

  it("waits for every store, and ends at once for a store that already has a config", () => {
    const r = recorder();
    const a = new StateStore();
    const b = new StateStore();
    efficientUntilConfigured([a, b], true, r.deps);
    a.replace(EMPTY);
    expect(r.flags).toEqual(["--efficiency-mode"]);
    b.replace(EMPTY);
    expect(r.flags).toEqual(["--efficiency-mode", "--no-efficiency-mode"]);

    const q = recorder();
    efficientUntilConfigured([a], true, q.deps);
    expect(q.flags).toEqual(["--efficiency-mode", "--no-efficiency-mode"]);
  });

  it("does nothing when turned off or when the node options already choose the mode", () => {
    for (const [enabled, options] of [
      [false, []],
      [true, ["--efficiency-mode"]],
      [true, ["--max-semi-space-size=2", "--no-efficiency-mode"]],
      [true, ["--efficiency_mode=true"]],
    ] as const) {
      const r = recorder([...options]);
      const store = new StateStore();
      const s = efficientUntilConfigured([store], enabled, r.deps);
      store.replace(EMPTY);
      s.end();
      expect(r.flags, `${enabled} ${options.join(" ")}`).toEqual([]);
    }
    const r = recorder(["--efficiency-modes"]);
    StartupEfficiency.begin(true, r.deps).end("stopped");
    expect(r.flags).toEqual(["--efficiency-mode", "--no-efficiency-mode"]);
    expect(r.logged.at(-1)).toMatch(/^stopped after/);
  });

  it("switches V8 itself: efficiency mode before the first config, V8's default after it", () => {
    // A fresh process, so V8's own answer (a natives-syntax call) is read, not a recorded flag.
    const store = pathToFileURL(join(import.meta.dirname, "state", "store.ts")).href;
    const mod = pathToFileURL(join(import.meta.dirname, "startup-efficiency.ts")).href;
    const script = `
      const { StateStore } = await import(${JSON.stringify(store)});
      const { efficientUntilConfigured } = await import(${JSON.stringify(mod)});
      const out = [%IsEfficiencyModeEnabled()];
      const store = new StateStore();
      efficientUntilConfigured([store], true, { nodeOptions: [] });
      out.push(%IsEfficiencyModeEnabled());
      store.replace({ workloads: [], services: [], policies: [] });
      out.push(%IsEfficiencyModeEnabled());
      console.log(JSON.stringify(out));`;
    const stdout = execFileSync(process.execPath, ["--allow-natives-syntax", "--input-type=module", "-e", script], { encoding: "utf8" });
    expect(JSON.parse(stdout)).toEqual([false, true, false]);
  });

  it("is all a proxy's entry point loads before it, and needs only node:v8 at run time", () => {
    const staticImports = (file: string) =>
      [...readFileSync(join(import.meta.dirname, file), "utf8").matchAll(/^import (?!type )[^;]*?from "([^"]+)";/gms)].map((m) => m[1]);
    expect(staticImports("startup-efficiency.ts")).toEqual(["node:v8"]);
    for (const main of ["../ztunnel/main.ts", "../waypoint/main.ts"]) {
      expect(staticImports(main), main).toEqual(["../proxy/startup-efficiency.ts"]);
      expect(readFileSync(join(import.meta.dirname, main), "utf8")).toMatch(
        /StartupEfficiency\.begin\(.*\);\s*const \{ \w+ \} = await import\("\.\/program\.ts"\)/,
      );
    }
  });
});
