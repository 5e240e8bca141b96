// ambientctl verify and ztunnel-config against real proxies: a local cluster in network namespaces seen
// through the in-test API server (exec and port-forward over WebSocket, as a real API server serves
// them), the CLI run as users run it, with only a kubeconfig. Needs root, iproute2, nftables, curl.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run } from "../shared/index.ts";
import { nodeHttpApp } from "../local/index.ts";
import { LocalCluster } from "../local/index.ts";
import { ClusterApi } from "../testing/index.ts";
import { VERIFY_POLICY_NAME } from "./verify.ts";

const CLI = fileURLToPath(new URL("../local/cli.ts", import.meta.url));
const workDir = mkdtempSync(join(tmpdir(), "al-ctl-"));
const prefix = `al-c${randomBytes(2).toString("hex")}`;
const kubeconfig = join(workDir, "kubeconfig");
const pods = (ns: string, opts: { ambient: boolean; sidecar?: boolean }) => [
  { namespace: ns, name: "sleep", node: "node-1", serviceAccount: "sleep", ...opts },
  { namespace: ns, name: "httpbin", node: "node-2", serviceAccount: "httpbin", ...opts, app: nodeHttpApp(`${ns}-httpbin`) },
];
const cluster = new LocalCluster({
  prefix,
  nodes: ["node-1", "node-2"],
  workDir,
  pods: [...pods("mesh", { ambient: true }), ...pods("legacy", { ambient: false, sidecar: true }), ...pods("plain", { ambient: false })],
  services: ["mesh", "legacy", "plain"].map((namespace) => ({ namespace, name: "httpbin", selector: ["httpbin"], ports: [{ port: 8000, targetPort: 8080 }] })),
});
const api = new ClusterApi(cluster);

function ctl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args, "--kubeconfig", kubeconfig], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  try {
    await cluster.up();
    await api.start();
    api.writeKubeconfig(kubeconfig);
  } catch (err) {
    await api.close();
    await cluster.down();
    throw err;
  }
}, 90_000);

afterAll(async () => {
  await api.close();
  await cluster.down();
  expect((await run("ip", ["netns", "list"])).stdout).not.toContain(prefix);
  rmSync(workDir, { recursive: true, force: true });
}, 60_000);

describe("ambientctl against a cluster's API", () => {
  it("verify: every sample namespace calls httpbin, mTLS with both identities where meshed, DENY enforced and removed", async () => {
    const r = await ctl(["verify", "--policy-timeout", "20"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain("ok    ztunnels ready: 2 on node-1, node-2");
    for (const [ns, mode] of [
      ["legacy", "sidecar"],
      ["mesh", "ambient"],
      ["plain", "none"],
    ])
      expect(r.stdout).toContain(`ok    ${ns} (${mode}): sleep calls httpbin: HTTP 200`);
    expect(r.stdout).toMatch(
      /ok {4}mesh \(ambient\): mutual TLS: istio-system\/ztunnel-node-2 counted \d+ mutual_tls connection\(s\) spiffe:\/\/cluster.local\/ns\/mesh\/sa\/sleep -> spiffe:\/\/cluster.local\/ns\/mesh\/sa\/httpbin/,
    );
    expect(r.stdout).toMatch(
      /ok {4}legacy \(sidecar\): mutual TLS: legacy\/httpbin counted \d+ mutual_tls connection\(s\) spiffe:\/\/cluster.local\/ns\/legacy\/sa\/sleep -> spiffe:\/\/cluster.local\/ns\/legacy\/sa\/httpbin/,
    );
    expect(r.stdout).not.toContain("plain (none): mutual TLS");
    expect(r.stdout).toMatch(/ok {4}mesh: DENY cluster.local\/ns\/mesh\/sa\/sleep enforced: call refused \(000/);
    expect(r.stdout).toContain("ok    mesh: DENY removed: calls succeed again");
    expect(r.stdout).toMatch(/\d+ checks, 0 failed/);
    // Nothing left behind: the policy is gone from the API, and every port-forward relay ended.
    expect(api.api.get("/apis/security.istio.io/v1/namespaces/mesh/authorizationpolicies", "mesh", VERIFY_POLICY_NAME)).toBeUndefined();
    for (let i = 0; i < 50 && api.openRelays > 0; i++) await new Promise((res) => setTimeout(res, 100));
    expect(api.openRelays).toBe(0);
  }, 180_000);

  it("verify exits 1 and names the failure when a call is refused", async () => {
    await cluster.applyManifest(
      "user-deny",
      "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: { name: deny-all, namespace: mesh }\nspec: { action: DENY, rules: [{}] }\n",
    );
    try {
      let r = await ctl(["verify", "--namespace", "mesh", "--skip-policy"]);
      for (let i = 0; i < 3 && r.code === 0; i++) r = await ctl(["verify", "--namespace", "mesh", "--skip-policy"]);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/FAIL {2}mesh \(ambient\): sleep calls httpbin: HTTP 000/);
      expect(r.stdout).toMatch(/\d+ checks, 1 failed:\n {2}mesh \(ambient\): sleep calls httpbin/);
    } finally {
      await cluster.applyManifest("user-deny", null);
    }
    const missing = await ctl(["verify", "--namespace", "nowhere", "--skip-policy"]);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toContain("FAIL  namespace nowhere: does not exist");
  }, 120_000);

  it("ztunnel-config shows what a ztunnel holds, from its admin port through a port-forward", async () => {
    const workloads = await ctl(["ztunnel-config", "workloads"]);
    expect(workloads.code, workloads.stderr).toBe(0);
    expect(workloads.stderr).toContain("ztunnel ztunnel-node-1 on node node-1 (--node picks another)");
    const row = workloads.stdout.split("\n").find((l) => /^mesh\s+httpbin\s/.test(l));
    expect(row).toMatch(
      new RegExp(`^mesh\\s+httpbin\\s+${cluster.pod("mesh/httpbin").ip.replace(/\./g, "\\.")}\\s+node-2\\s+None\\s+HBONE\\s+Healthy\\s+httpbin$`),
    );
    expect(workloads.stdout.split("\n")[0]).toMatch(/^NAMESPACE\s+POD NAME\s+ADDRESS\s+NODE\s+WAYPOINT\s+PROTOCOL\s+STATUS\s+SERVICE ACCOUNT$/);

    const services = await ctl(["ztunnel-config", "services", "--node", "node-2"]);
    expect(services.stderr).toContain("ztunnel ztunnel-node-2 on node node-2\n");
    const vip = cluster.services.find((s) => s.namespace === "mesh")!.vip;
    expect(services.stdout).toMatch(new RegExp(`^mesh\\s+httpbin\\s+${vip.replace(/\./g, "\\.")}\\s+None\\s+8000->8080$`, "m"));

    // Certificates are per node: node-2's ztunnel holds httpbin's identity (it serves that pod).
    const certs = await ctl(["ztunnel-config", "certificates", "--node", "node-2"]);
    expect(certs.stdout).toMatch(/^spiffe:\/\/cluster.local\/ns\/mesh\/sa\/httpbin\s+Available\s+[0-9a-f]+\s+\d{4}-/m);

    await cluster.applyManifest(
      "user-allow",
      'apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: { name: allow-sleep, namespace: mesh }\nspec: { action: ALLOW, rules: [{ from: [{ source: { principals: ["cluster.local/ns/mesh/sa/sleep"] } }] }] }\n',
    );
    try {
      let policies = await ctl(["ztunnel-config", "policies", "-o", "json"]);
      for (let i = 0; i < 30 && !policies.stdout.includes("allow-sleep"); i++) {
        await new Promise((res) => setTimeout(res, 200));
        policies = await ctl(["ztunnel-config", "policies", "-o", "json"]);
      }
      expect((JSON.parse(policies.stdout) as Array<{ name: string; action: string }>).find((p) => p.name === "allow-sleep")).toMatchObject({ action: "Allow" });
      expect((await ctl(["ztunnel-config", "policies"])).stdout).toMatch(/^mesh\s+allow-sleep\s+Allow\s+Namespace\s+1\s+no$/m);
    } finally {
      await cluster.applyManifest("user-allow", null);
    }

    const wrongNode = await ctl(["ztunnel-config", "workloads", "--node", "node-9"]);
    expect(wrongNode.code).toBe(1);
    expect(wrongNode.stderr).toContain('no ztunnel on node "node-9"; ztunnels run on: node-1, node-2');
  }, 120_000);
});
