// Sidecar mode end to end in network namespaces, with the control plane: pods that run our proxy beside
// the application talk mTLS (HBONE) with each other and with ambient pods. Needs root, iproute2,
// nftables, curl.
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run } from "../shared/index.ts";
import { nodeHttpApp } from "./apps.ts";
import { captureUplink } from "../testing/index.ts";
import { LocalCluster } from "./cluster.ts";

const workDir = mkdtempSync(join(tmpdir(), "al-sidecar-"));
const prefix = `al-s${randomBytes(2).toString("hex")}`;
const cluster = new LocalCluster({
  prefix,
  nodes: ["node-1", "node-2"],
  workDir,
  pods: [
    { namespace: "demo", name: "client", node: "node-1", serviceAccount: "client", ambient: true },
    { namespace: "demo", name: "server", node: "node-2", serviceAccount: "server", ambient: true, app: nodeHttpApp("ambient-server") },
    { namespace: "legacy", name: "client", node: "node-1", serviceAccount: "legacy-client", ambient: false, sidecar: true },
    { namespace: "legacy", name: "server", node: "node-2", serviceAccount: "legacy-server", ambient: false, sidecar: true, app: nodeHttpApp("sidecar-server") },
  ],
  services: [
    { namespace: "demo", name: "server", selector: ["server"], ports: [{ port: 80, targetPort: 8080 }] },
    { namespace: "legacy", name: "server", selector: ["server"], ports: [{ port: 80, targetPort: 8080 }] },
  ],
});

const curl = async (pod: string, url: string) => {
  const r = await cluster.exec(pod, "curl", ["-sS", "-m", "5", url]);
  return { ok: r.code === 0, out: r.stdout + r.stderr };
};
const until = async (pod: string, url: string) => {
  let r = await curl(pod, url);
  for (let i = 0; i < 100 && !r.ok; i++) {
    await new Promise((res) => setTimeout(res, 100));
    r = await curl(pod, url);
  }
  return r;
};
const metrics = async (pod: string) => (await cluster.exec(pod, "curl", ["-s", "-m", "2", "http://127.0.0.1:15020/metrics"])).stdout;

beforeAll(async () => {
  try {
    await cluster.up();
  } catch (err) {
    await cluster.down();
    throw err;
  }
}, 60_000);

afterAll(async () => {
  if (process.env.AL_KEEP_LOGS)
    for (const f of ["sidecar-legacy-client.log", "sidecar-legacy-server.log"]) console.log(f, readFileSync(join(workDir, "logs", f), "utf8").slice(-3000));
  await cluster.down();
  expect((await run("ip", ["netns", "list"])).stdout).not.toContain(prefix);
  rmSync(workDir, { recursive: true, force: true });
}, 60_000);

describe("sidecar mode", () => {
  it("runs one proxy per sidecar pod, as that pod's own proxy user, with capture rules in the pod's own namespace", async () => {
    const uids = new Set<number>();
    for (const pod of ["legacy/client", "legacy/server"]) {
      const uid = cluster.users(pod).proxy;
      uids.add(uid);
      const pid = cluster.processes.get(`sidecar/${pod}`)!.pid;
      expect(readFileSync(`/proc/${pid}/status`, "utf8")).toMatch(new RegExp(`^Uid:\\s+${uid}\\s`, "m"));
      const rules = (await cluster.execAsRoot(pod, "nft", ["list", "table", "ip", "al_sidecar"])).stdout;
      expect(rules).toContain(`meta skuid ${uid} return`);
      expect(rules).toContain("redirect to :15001");
    }
    expect(uids.size).toBe(2);
  });

  it("sidecar to sidecar, ambient to sidecar and sidecar to ambient all work, over mTLS with both identities", async () => {
    const a = await until("legacy/client", "http://server.legacy/");
    expect(a.out).toContain("hello from sidecar-server");
    const b = await until("demo/client", "http://server.legacy/");
    expect(b.out).toContain("hello from sidecar-server");
    const c = await until("legacy/client", "http://server.demo/");
    expect(c.out).toContain("hello from ambient-server");
    const inbound = (await metrics("legacy/server")).split("\n").filter((l) => l.startsWith('istio_tcp_connections_opened_total{reporter="destination"'));
    expect(
      inbound.some(
        (l) => l.includes('source_principal="spiffe://cluster.local/ns/legacy/sa/legacy-client"') && l.includes('connection_security_policy="mutual_tls"'),
      ),
    ).toBe(true);
    expect(inbound.some((l) => l.includes('source_principal="spiffe://cluster.local/ns/demo/sa/client"'))).toBe(true);
    const outbound = (await metrics("legacy/client")).split("\n").filter((l) => l.startsWith('istio_tcp_connections_opened_total{reporter="source"'));
    expect(outbound.some((l) => l.includes('destination_principal="spiffe://cluster.local/ns/demo/sa/server"'))).toBe(true);
  });

  it("only TLS crosses the node link for sidecar traffic", async () => {
    const marker = `secret-${randomBytes(4).toString("hex")}`;
    const capture = await captureUplink(cluster, "node-1", "sidecar");
    expect((await curl("legacy/client", `http://server.legacy/${marker}`)).ok).toBe(true);
    await capture.stop();
    const text = (await run("tcpdump", ["-n", "-A", "-r", capture.file])).stdout;
    expect(text).toMatch(/\.15008[: ]/);
    expect(text).not.toContain(marker);
  });

  it("fails closed: with the client's sidecar killed its rules stay, the call fails and nothing crosses in plaintext; a new sidecar takes over", async () => {
    const marker = `down-${randomBytes(4).toString("hex")}`;
    const capture = await captureUplink(cluster, "node-1", "sidecar-down");
    const proc = cluster.processes.get("sidecar/legacy/client")!;
    process.kill(proc.pid, "SIGKILL");
    await proc.exited;
    expect((await cluster.execAsRoot("legacy/client", "nft", ["list", "table", "ip", "al_sidecar"])).stdout).toContain("redirect to :15001");
    expect((await curl("legacy/client", `http://server.legacy/${marker}`)).ok).toBe(false);
    // The server side too: with its sidecar killed, an ambient caller's HBONE is refused, not delivered around it.
    const server = cluster.processes.get("sidecar/legacy/server")!;
    process.kill(server.pid, "SIGKILL");
    await server.exited;
    expect((await curl("demo/client", `http://server.legacy/${marker}`)).ok).toBe(false);
    expect((await capture.stop()).includes(Buffer.from(marker))).toBe(false);
    await cluster.startSidecar("legacy/server");
    await cluster.startSidecar("legacy/client");
    await cluster.waitSidecarReady("legacy/client");
    expect((await until("legacy/client", "http://server.legacy/back")).out).toContain("hello from sidecar-server");
  });
});
