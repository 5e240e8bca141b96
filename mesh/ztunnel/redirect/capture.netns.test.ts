// NftCapture against the real nft in a throwaway network namespace (needs root).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run } from "../../shared/index.ts";
import { silentLogger } from "../../shared/index.ts";
import { parseLocalConfig } from "../../proxy/index.ts";
import { ProxyState } from "../../proxy/index.ts";
import { NftCapture } from "./capture.ts";

const ports = { outbound: 15001, inboundPlaintext: 15006, hbone: 15008 };

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

  it("installs, updates in place, takes over a left table without losing its members, and uninstalls", async () => {
    const cap = new NftCapture({ node: "node-1", ports, run: inNs, log: silentLogger() });
    const state = (ips: string[]) =>
      new ProxyState(
        parseLocalConfig(
          `workloads:\n${ips.map((ip, i) => `  - { uid: u${i}, name: p${i}, namespace: d, workloadIps: [${ip}], node: node-1 }`).join("\n")}\n  - { uid: x, name: x, namespace: d, workloadIps: [198.18.2.9], node: node-2 }\n  - { uid: y, name: y, namespace: d, workloadIps: [198.18.1.99], node: node-1, protocol: NONE }`,
        ),
      );
    const list = async () => (await inNs("nft", ["list", "table", "ip", "al_ztunnel"])).stdout;
    await cap.install();
    await cap.apply(state(["198.18.1.10", "198.18.1.11"]));
    expect(await list()).toMatch(/elements = \{ 198\.18\.1\.10, 198\.18\.1\.11 \}/);
    expect(await list()).toContain("ip saddr @enrolled meta l4proto tcp redirect to :15001");
    expect(await list()).not.toContain("198.18.2.9"); // another node's pod
    expect(await list()).not.toContain("198.18.1.99"); // not HBONE
    await cap.apply(state(["198.18.1.12"]));
    expect(await list()).toMatch(/elements = \{ 198\.18\.1\.12 \}/);
    // A new ztunnel (after an exit or a crash) takes over: chains rewritten once, members kept until its config.
    const next = new NftCapture({ node: "node-1", ports, run: inNs, log: silentLogger() });
    await next.install();
    const taken = await list();
    expect(taken).toMatch(/elements = \{ 198\.18\.1\.12 \}/);
    expect(taken.match(/redirect to :15001/g)).toHaveLength(1);
    await next.apply(state([]));
    expect(await list()).not.toMatch(/elements/);
    await NftCapture.uninstall(inNs);
    expect((await inNs("nft", ["list", "ruleset"])).stdout.trim()).toBe("");
    await NftCapture.uninstall(inNs); // idempotent
  });

  it("says what is wrong when nft refuses", async () => {
    const cap = new NftCapture({
      node: "n",
      ports,
      run: () => Promise.resolve({ code: 1, stdout: "", stderr: "Operation not permitted" }),
      log: silentLogger(),
    });
    await expect(cap.install()).rejects.toThrow(/nft refused the capture rules .*Operation not permitted.*CAP_NET_ADMIN/);
  });
});
