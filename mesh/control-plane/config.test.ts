// The control plane's environment: defaults, and an error that names the variable and what it accepts.
import { describe, expect, it } from "vitest";
import { helpText, loadConfig as load } from "./config.ts";

const loadConfig = (env: Record<string, string>) => load({ CONFIG_DIR: "/c", STATE_DIR: "/s", ...env });

describe("control plane configuration", () => {
  it("compacts after a burst of syncs by default, takes plain or off, and refuses anything else by name", () => {
    expect(loadConfig({}).AFTER_BURST_GC).toBe("compact");
    expect(loadConfig({ AFTER_BURST_GC: "plain" }).AFTER_BURST_GC).toBe("plain");
    expect(loadConfig({ AFTER_BURST_GC: "off" }).AFTER_BURST_GC).toBe("off");
    expect(() => loadConfig({ AFTER_BURST_GC: "always" })).toThrow(/AFTER_BURST_GC: .*compact.*plain.*off/);
    expect(helpText()).toMatch(/AFTER_BURST_GC/);
  });
});
