import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run } from "../../shared/exec.ts";
import { silentLogger } from "../../shared/logging.ts";
import { parseLocalConfig } from "../state/local-config.ts";
import { ProxyState } from "../state/snapshot.ts";
import { NftCapture } from "./capture.ts";
import { renderDelete, renderSetUpdate, renderSidecarTable, renderTable } from "./rules.ts";

const ports = { outbound: 15001, inboundPlaintext: 15006, hbone: 15008 };
const dir = join(import.meta.dirname, "testdata");

/** Golden files: regenerate with UPDATE_GOLDEN=1. */
function golden(name: string, actual: string): void {
  const path = join(dir, name);
  if (process.env.UPDATE_GOLDEN) writeFileSync(path, actual);
  expect(actual).toBe(readFileSync(path, "utf8"));
}

describe("capture rules (golden)", () => {
  it("renders the table with sorted, de-duplicated IPv4 members", () => {
    golden("table.nft", renderTable(["198.18.1.11", "198.18.1.2", "198.18.1.2", "fd00::1"], ports));
  });
  it("renders an empty set without an elements clause", () => {
    golden("table-empty.nft", renderTable([], ports));
  });
  it("renders the sidecar table for one pod, excluding the proxy's own user", () => {
    golden("sidecar.nft", renderSidecarTable("198.18.1.12", { ...ports, metrics: 15020, readiness: 15021 }, 1337));
    expect(() => renderSidecarTable("fd00::1", { ...ports, metrics: 15020, readiness: 15021 }, 1337)).toThrow(/IPv4/);
  });
  it("renders an atomic set update and the delete", () => {
    golden("update.nft", renderSetUpdate(["198.18.1.3", "198.18.1.2"]) + renderSetUpdate([]) + renderDelete());
  });
});

const ns = `al-nft-${process.pid}`;
const inNs = (cmd: string, args: string[], input?: string) => run("ip", ["netns", "exec", ns, cmd, ...args], input);

describe("NftCapture in a network namespace", () => {
  beforeAll(async () => {
    const r = await run("ip", ["netns", "add", ns]);
    if (r.code !== 0) throw new Error(`cannot create netns ${ns} (are you root?): ${r.stderr}`);
  });
  afterAll(async () => {
    await run("ip", ["netns", "del", ns]);
  });

  it("installs, updates in place and removes the table completely", async () => {
    const cap = new NftCapture({ node: "node-1", ports, run: inNs, log: silentLogger() });
    const state = (ips: string[]) =>
      new ProxyState(
        parseLocalConfig(
          `workloads:\n${ips.map((ip, i) => `  - { uid: u${i}, name: p${i}, namespace: d, workloadIps: [${ip}], node: node-1 }`).join("\n")}\n  - { uid: x, name: x, namespace: d, workloadIps: [198.18.2.9], node: node-2 }\n  - { uid: y, name: y, namespace: d, workloadIps: [198.18.1.99], node: node-1, protocol: NONE }`,
        ),
      );
    await cap.install();
    await cap.apply(state(["198.18.1.10", "198.18.1.11"]));
    let list = (await inNs("nft", ["list", "table", "ip", "al_ztunnel"])).stdout;
    expect(list).toMatch(/elements = \{ 198\.18\.1\.10, 198\.18\.1\.11 \}/);
    expect(list).toContain("ip saddr @enrolled meta l4proto tcp redirect to :15001");
    expect(list).not.toContain("198.18.2.9"); // another node's pod
    expect(list).not.toContain("198.18.1.99"); // not HBONE
    await cap.apply(state(["198.18.1.12"]));
    list = (await inNs("nft", ["list", "table", "ip", "al_ztunnel"])).stdout;
    expect(list).toMatch(/elements = \{ 198\.18\.1\.12 \}/);
    // A second instance after a crash replaces the table instead of failing.
    await new NftCapture({ node: "node-1", ports, run: inNs, log: silentLogger() }).install();
    await cap.remove();
    expect((await inNs("nft", ["list", "ruleset"])).stdout.trim()).toBe("");
    await cap.remove(); // idempotent
  });

  it("says what is wrong when nft refuses", async () => {
    const cap = new NftCapture({ node: "n", ports, run: () => Promise.resolve({ code: 1, stdout: "", stderr: "Operation not permitted" }), log: silentLogger() });
    await expect(cap.install()).rejects.toThrow(/nft refused the capture rules .*Operation not permitted.*CAP_NET_ADMIN/);
  });
});
