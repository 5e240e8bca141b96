// The pooled KubeConfig against a real HTTPS API endpoint: API calls share one TLS connection (client-node
// alone opens one per call, checked here too so the workaround is dropped once upstream stops), and a
// rotated CA file gets a new connection.
import { execFileSync } from "node:child_process";
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import https from "node:https";
import type net from "node:net";
import os from "node:os";
import { join } from "node:path";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PooledKubeConfig } from "./kube-config.ts";

let dir: string;
let server: https.Server;
let handshakes = 0;
let url: string;

beforeAll(async () => {
  dir = mkdtempSync(join(os.tmpdir(), "al-kubeconfig-"));
  execFileSync("openssl", [
    ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1"],
    ...["-subj", "/CN=kube-apiserver", "-addext", "subjectAltName=IP:127.0.0.1"],
    ...["-keyout", join(dir, "key.pem"), "-out", join(dir, "ca.crt")],
  ]);
  server = https.createServer({ key: readFileSync(join(dir, "key.pem")), cert: readFileSync(join(dir, "ca.crt")) }, (req, res) => {
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", namespace: "n" }, data: { token: req.headers.authorization ?? "" } }));
  });
  server.on("secureConnection", () => handshakes++);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  url = `https://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  writeFileSync(
    join(dir, "kubeconfig"),
    `apiVersion: v1\nkind: Config\nclusters: [{ name: c, cluster: { server: "${url}", certificate-authority: ${join(dir, "ca.crt")} } }]\nusers: [{ name: u, user: { token: t0k3n } }]\ncontexts: [{ name: c, context: { cluster: c, user: u } }]\ncurrent-context: c\n`,
  );
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

async function calls(kc: KubeConfig, n: number): Promise<number> {
  const api = kc.makeApiClient(CoreV1Api);
  const before = handshakes;
  for (let i = 0; i < n; i++) {
    const cm = await api.readNamespacedConfigMap({ name: "c", namespace: "n" });
    expect(cm.data?.token).toBe("Bearer t0k3n");
  }
  return handshakes - before;
}

describe("PooledKubeConfig", () => {
  it("makes API calls over one TLS connection, where client-node alone opens one per call", async () => {
    const plain = new KubeConfig();
    plain.loadFromFile(join(dir, "kubeconfig"));
    expect(await calls(plain, 5)).toBe(5);
    server.closeAllConnections();

    const pooled = new PooledKubeConfig();
    pooled.loadFromFile(join(dir, "kubeconfig"));
    // undici may open a second connection when the next call comes before the first socket is back in
    // its pool; after that the calls reuse them.
    expect(await calls(pooled, 20)).toBeLessThanOrEqual(2);
    expect(await calls(pooled, 20)).toBe(0);
    await pooled.closeConnections();
  });

  it("connects anew when the CA file changes, and after closeConnections", async () => {
    const pooled = new PooledKubeConfig();
    pooled.loadFromFile(join(dir, "kubeconfig"));
    await calls(pooled, 3);
    expect(await calls(pooled, 3)).toBe(0);
    appendFileSync(join(dir, "ca.crt"), "\n"); // a rotated bundle: other bytes, the same trust here
    expect(await calls(pooled, 3)).toBeGreaterThan(0);
    expect(await calls(pooled, 3)).toBe(0);
    await pooled.closeConnections();
    expect(await calls(pooled, 3)).toBeGreaterThan(0);
    await pooled.closeConnections();
  });
});
