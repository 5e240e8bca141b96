// Real processes in real network namespaces: two nodes with a ztunnel each (nftables capture), pods
// running an HTTP app and an unmodified curl. Needs root, iproute2, nftables, curl and tcpdump.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run } from "../shared/index.ts";
import { LocalCluster, NODE_BIN } from "../local/index.ts";
import { captureUplink, mtlsConnections } from "../testing/index.ts";

const HTTP_APP = fileURLToPath(new URL("../testing/http-app.ts", import.meta.url));
const app = (name: string) => ({ cmd: NODE_BIN, args: [HTTP_APP, "--port", "8080", "--name", name] });
const workDir = mkdtempSync(join(tmpdir(), "al-netns-"));
const prefix = `al-t${randomBytes(2).toString("hex")}`;

const cluster = new LocalCluster({
  prefix,
  nodes: ["node-1", "node-2"],
  workDir,
  // ztunnel on its own, fed by LOCAL_CONFIG (the control-plane end-to-end test covers the other mode).
  mode: "local-config",
  pods: [
    { namespace: "demo", name: "sleep", node: "node-1", serviceAccount: "sleep", ambient: true },
    { namespace: "demo", name: "web", node: "node-2", serviceAccount: "web", ambient: true, app: app("web") },
    { namespace: "demo", name: "near", node: "node-1", serviceAccount: "near", ambient: true, app: app("near") },
    { namespace: "legacy", name: "client", node: "node-1", serviceAccount: "client", ambient: false },
  ],
  services: [{ namespace: "demo", name: "web", selector: ["web"], ports: [{ port: 80, targetPort: 8080 }] }],
});

async function curl(pod: string, url: string, extra: string[] = []): Promise<{ code: number; body: string }> {
  const r = await cluster.exec(pod, "curl", ["-sS", "-m", "3", ...extra, url]);
  return { code: r.code, body: r.stdout + r.stderr };
}

async function eventually(pod: string, url: string, want: (r: { code: number; body: string }) => boolean, ms = 5000) {
  const end = Date.now() + ms;
  let r = await curl(pod, url);
  while (!want(r) && Date.now() < end) {
    await new Promise((res) => setTimeout(res, 100));
    r = await curl(pod, url);
  }
  return r;
}

beforeAll(async () => {
  try {
    await cluster.up();
  } catch (err) {
    await cluster.down();
    throw err;
  }
  const web = cluster.pod("demo/web").ip;
  const r = await eventually("demo/sleep", `http://${web}:8080/`, (x) => x.code === 0, 10_000);
  expect(r.body).toContain("hello from web");
}, 60_000);

afterAll(async () => {
  const pids = cluster.processes.list().map((p) => p.pid);
  await cluster.down();
  // Nothing left behind: no namespace with our prefix, no process we started.
  const left = (await run("ip", ["netns", "list"])).stdout.split("\n").filter((l) => l.startsWith(prefix));
  expect(left).toEqual([]);
  for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
  rmSync(workDir, { recursive: true, force: true });
}, 60_000);

describe("ztunnel in network namespaces", () => {
  it("an unmodified curl reaches a pod on another node by pod IP and by service name", async () => {
    const web = cluster.pod("demo/web").ip;
    expect((await curl("demo/sleep", `http://${web}:8080/by-ip`)).body).toBe("hello from web GET /by-ip\n");
    expect((await curl("demo/sleep", "http://web/by-name")).body).toBe("hello from web GET /by-name\n");
    expect((await curl("demo/sleep", "http://web.demo.svc.cluster.local:80/fqdn")).body).toBe("hello from web GET /fqdn\n");
  });

  it("same-node traffic also goes through HBONE", async () => {
    // The node's ztunnel reports the inbound side of the connection as mutual TLS between the two
    // identities: a bypassed ztunnel (plain pod-to-pod) would leave the counter unchanged.
    const opened = () => mtlsConnections(cluster, "node-1", { namespace: "demo", serviceAccount: "sleep" }, { namespace: "demo", serviceAccount: "near" });
    const before = await opened();
    const near = cluster.pod("demo/near").ip;
    expect((await curl("demo/sleep", `http://${near}:8080/near`)).body).toBe("hello from near GET /near\n");
    expect(await opened()).toBe(before + 1);
  });

  it("the node-to-node link carries TLS on 15008 and never the request or response", async () => {
    const capture = await captureUplink(cluster, "node-1", "uplink");
    const marker = `secret-${randomBytes(6).toString("hex")}`;
    const r = await curl("demo/sleep", `http://web/${marker}`);
    expect(r.body).toBe(`hello from web GET /${marker}\n`);
    const bytes = await capture.stop();
    expect(bytes.length).toBeGreaterThan(200);
    expect(bytes.includes(Buffer.from(marker))).toBe(false);
    expect(bytes.includes(Buffer.from("hello from web"))).toBe(false);
    const text = (await run("tcpdump", ["-n", "-r", capture.file])).stdout;
    expect(text).toMatch(/\.15008[: ]/);
    expect(text).not.toMatch(/\.8080[: ]/);
    // TLS application-data records (0x17 0x03 0x03) are on the wire.
    expect(bytes.includes(Buffer.from([0x17, 0x03, 0x03]))).toBe(true);
  });

  it("a pod outside the mesh reaches an enrolled pod through inbound plaintext capture", async () => {
    const web = cluster.pod("demo/web").ip;
    expect((await curl("legacy/client", `http://${web}:8080/plain`)).body).toBe("hello from web GET /plain\n");
    // By service name: the node's service rules (kube-proxy's job) pick the endpoint.
    expect((await curl("legacy/client", "http://web.demo/plain-vip")).body).toBe("hello from web GET /plain-vip\n");
  });

  it("ztunnel metrics name both SPIFFE identities", async () => {
    const r = await cluster.execInNode("node-2", "curl", ["-s", "http://127.0.0.1:15020/metrics"]);
    expect(r.stdout).toMatch(
      /istio_tcp_connections_opened_total\{reporter="destination",source_workload="sleep".*source_principal="spiffe:\/\/cluster.local\/ns\/demo\/sa\/sleep".*destination_principal="spiffe:\/\/cluster.local\/ns\/demo\/sa\/web".*connection_security_policy="mutual_tls"/,
    );
  });

  it("a DENY policy makes the request fail; removing it restores it", async () => {
    const url = `http://${cluster.pod("demo/web").ip}:8080/policy`;
    await cluster.setPolicies([
      {
        name: "deny-sleep",
        namespace: "demo",
        scope: "Namespace",
        action: "Deny",
        rules: [{ clauses: [{ matches: [{ principals: ["cluster.local/ns/demo/sa/sleep"] }] }] }],
      },
    ]);
    const denied = await eventually("demo/sleep", url, (r) => r.code !== 0, 3000);
    expect(denied.code).not.toBe(0);
    expect(denied.body).toMatch(/reset|Empty reply|Recv failure/i);
    await cluster.setPolicies([]);
    const ok = await eventually("demo/sleep", url, (r) => r.code === 0, 3000);
    expect(ok.body).toBe("hello from web GET /policy\n");
  });

  it("fails closed: with node-2's ztunnel stopped or killed its rules stay, nothing crosses in plaintext, and a new ztunnel takes over (finding 1)", async () => {
    const web = cluster.pod("demo/web").ip;
    const rules = async () => (await cluster.execInNode("node-2", "nft", ["list", "table", "ip", "al_ztunnel"])).stdout;
    const capture = await captureUplink(cluster, "node-1", "down");
    const marker = `down-${randomBytes(6).toString("hex")}`;
    for (const how of ["SIGTERM", "SIGKILL"] as const) {
      const zt = cluster.processes.get("ztunnel/node-2")!;
      if (how === "SIGTERM") await cluster.processes.stop("ztunnel/node-2");
      else {
        process.kill(zt.pid, "SIGKILL");
        await zt.exited;
      }
      const left = await rules();
      expect(left, how).toContain("redirect to :15006");
      expect(left, how).toContain(web);
      // Enrolled to enrolled: the HBONE connection to web is refused at node-2, not delivered in plaintext.
      expect((await curl("demo/sleep", `http://${web}:8080/${marker}`)).code, how).not.toBe(0);
      // A pod outside the mesh: still captured, refused (not a direct plaintext path to web).
      expect((await curl("legacy/client", `http://${web}:8080/${marker}`)).code, how).not.toBe(0);
      await cluster.startZtunnel("node-2");
      await cluster.waitReady("node-2");
      const back = await eventually("demo/sleep", `http://${web}:8080/back`, (r) => r.code === 0, 10_000);
      expect(back.body, how).toBe("hello from web GET /back\n");
      expect((await rules()).match(/redirect to :15001/g), "the new ztunnel rewrote the chains once").toHaveLength(1);
    }
    expect((await capture.stop()).includes(Buffer.from(marker))).toBe(false);
  }, 60_000);

  it("only an explicit uninstall removes the rules", async () => {
    await cluster.processes.stop("ztunnel/node-2");
    expect((await cluster.execInNode("node-2", "nft", ["list", "ruleset"])).stdout).toContain("table ip al_ztunnel");
    const r = await cluster.execInNode("node-2", NODE_BIN, [join(import.meta.dirname, "main.ts"), "--uninstall"]);
    expect(r.stdout).toContain("capture rules removed");
    expect((await cluster.execInNode("node-2", "nft", ["list", "ruleset"])).stdout).not.toContain("al_ztunnel");
  });
});
