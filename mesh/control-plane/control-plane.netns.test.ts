// End to end in network namespaces: the control plane in file mode (in the bridge namespace) and two
// ztunnels fed by its config stream and certificates. Needs root, iproute2, nftables, curl.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run } from "../shared/index.ts";
import { nodeHttpApp } from "../local/index.ts";
import { LocalCluster } from "../local/index.ts";
import { mtlsConnections } from "../testing/index.ts";

const workDir = mkdtempSync(join(tmpdir(), "al-cpnetns-"));
const prefix = `al-c${randomBytes(2).toString("hex")}`;
const cluster = new LocalCluster({
  prefix,
  nodes: ["node-1", "node-2"],
  workDir,
  pods: [
    { namespace: "demo", name: "sleep", node: "node-1", serviceAccount: "sleep", ambient: true },
    { namespace: "demo", name: "web", node: "node-2", serviceAccount: "web", ambient: true, app: nodeHttpApp("web") },
  ],
  services: [{ namespace: "demo", name: "web", selector: ["web"], ports: [{ port: 80, targetPort: 8080 }] }],
});

const DENY = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: deny-sleep, namespace: demo }
spec: { action: DENY, rules: [{ from: [{ source: { principals: ["cluster.local/ns/demo/sa/sleep"] } }] }] }
`;

const curl = async (url: string, extra: string[] = []) => {
  const r = await cluster.exec("demo/sleep", "curl", ["-sS", "-m", "5", ...extra, url]);
  return { ok: r.code === 0, out: r.stdout + r.stderr };
};

beforeAll(async () => {
  try {
    await cluster.up();
  } catch (err) {
    await cluster.down();
    throw err;
  }
  for (let i = 0; i < 100 && !(await curl("http://web/")).ok; i++) await new Promise((r) => setTimeout(r, 100));
}, 60_000);

afterAll(async () => {
  await cluster.down();
  expect((await run("ip", ["netns", "list"])).stdout).not.toContain(prefix);
  rmSync(workDir, { recursive: true, force: true });
}, 60_000);

describe("control plane with ztunnels in network namespaces", () => {
  it("serves config and certificates: sleep reaches web by name over mTLS", async () => {
    // web's node counts the connection as mutual TLS between the identities the control plane issued.
    const mtls = () => mtlsConnections(cluster, "node-2", { namespace: "demo", serviceAccount: "sleep" }, { namespace: "demo", serviceAccount: "web" });
    const before = await mtls();
    expect((await curl("http://web/hello")).out).toBe("hello from web GET /hello\n");
    expect(await mtls()).toBe(before + 1);
    const dump = await cluster.execInNode("node-1", "curl", ["-s", "http://127.0.0.1:15000/config_dump"]);
    const certs = (JSON.parse(dump.stdout) as { certificates: Array<{ identity: string; state: string }> }).certificates;
    expect(certs).toEqual([expect.objectContaining({ identity: "spiffe://cluster.local/ns/demo/sa/sleep", state: "Available" })]);
  });

  it("a DENY policy file blocks the flow within one second; deleting it restores the flow", async () => {
    const t0 = Date.now();
    await cluster.applyManifest("deny", DENY);
    let r = await curl("http://web/");
    while (r.ok && Date.now() - t0 < 5000) r = await curl("http://web/");
    const blockedAfter = Date.now() - t0;
    expect(r.ok).toBe(false);
    expect(blockedAfter).toBeLessThan(1000);
    const t1 = Date.now();
    await cluster.applyManifest("deny", null);
    r = await curl("http://web/");
    while (!r.ok && Date.now() - t1 < 5000) r = await curl("http://web/");
    expect(r.ok).toBe(true);
    expect(Date.now() - t1).toBeLessThan(1000);
  });

  it("with the control plane stopped, running transfers finish and new connections work", async () => {
    // ~400 KB at 200 KB/s: still running when the control plane goes away.
    const running = curl("http://web/?size=400000", ["-o", "/dev/null", "-w", "%{size_download}", "--limit-rate", "200k"]);
    await new Promise((r) => setTimeout(r, 500));
    await cluster.processes.stop("control-plane");
    const done = await running;
    expect(done).toEqual({ ok: true, out: "400000" });
    expect((await curl("http://web/after")).out).toBe("hello from web GET /after\n");
    const log = await cluster.execInNode("node-1", "curl", ["-s", "http://127.0.0.1:15021/healthz/ready"]);
    expect(log.stdout).toContain("ready");
  });
});
