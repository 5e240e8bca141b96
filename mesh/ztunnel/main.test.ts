// The entry point: V8's efficiency mode before the program loads, and back to V8's defaults with the
// first config (mesh/proxy/startup-efficiency.ts), in a real ztunnel process on a static config.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterEach, describe, expect, it } from "vitest";

const MAIN = join(import.meta.dirname, "main.ts");
const dirs: string[] = [];

afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

/** Runs ztunnel on a static config until its config is applied; returns its log messages, then stops it by its PID. */
async function firstMessages(extraEnv: Record<string, string>): Promise<string[]> {
  const dir = await mkdtemp(join(os.tmpdir(), "al-zt-main-"));
  dirs.push(dir);
  await writeFile(join(dir, "config.yaml"), "workloads: []\n");
  const env = {
    PATH: process.env.PATH ?? "",
    NODE_NAME: "node-1",
    LOCAL_CONFIG: join(dir, "config.yaml"),
    CA_DIR: join(dir, "ca"),
    LISTEN_HOST: "127.0.0.1",
    ...Object.fromEntries(["OUTBOUND", "INBOUND_PLAINTEXT", "HBONE", "METRICS", "READINESS", "ADMIN"].map((p) => [`${p}_PORT`, "0"])),
    ...extraEnv,
  };
  const child = spawn(process.execPath, [MAIN], { env, stdio: ["ignore", "pipe", "inherit"] });
  const messages: string[] = [];
  try {
    for await (const line of createInterface({ input: child.stdout })) {
      const msg = (JSON.parse(line) as { msg?: string }).msg ?? "";
      messages.push(msg);
      if (msg === "LOCAL_CONFIG applied") break;
    }
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, "exit");
      child.kill("SIGTERM");
      await exited;
    }
  }
  return messages;
}

describe("ztunnel's entry point", () => {
  it("leaves V8's efficiency mode when the first config is applied, and not at all with STARTUP_EFFICIENCY=off", async () => {
    const on = await firstMessages({});
    expect(on.filter((m) => /^the first config is applied after \d+ ms: V8 back to its defaults/.test(m))).toHaveLength(1);
    expect(on.at(-1)).toBe("LOCAL_CONFIG applied");

    const off = await firstMessages({ STARTUP_EFFICIENCY: "off" });
    expect(off.at(-1)).toBe("LOCAL_CONFIG applied");
    expect(off.filter((m) => m.includes("V8 back to its defaults"))).toEqual([]);
  });
});
