import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { MeshError, silentLogger } from "../shared/index.ts";
import { GrpcCaClient } from "./identity/grpc-ca.ts";
import { FileCaClient } from "./identity/file-ca.ts";
import { openSources } from "./open-sources.ts";
import { StateStore } from "./state/store.ts";
import { XdsClient } from "./xds/client.ts";

const who = { node: "node-1", clusterId: "Kubernetes", trustDomain: "cluster.local" };
const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});
async function tmp(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "al-sources-"));
  dirs.push(d);
  return d;
}

describe("openSources", () => {
  it("a static file feeds the store and a local CA directory signs", async () => {
    const dir = await tmp();
    const file = join(dir, "config.yaml");
    await writeFile(file, "workloads:\n  - { uid: u1, name: sleep, namespace: demo, workloadIps: [198.18.1.10], serviceAccount: sleep, node: node-1 }\n");
    const store = new StateStore();
    const { source, ca } = await openSources({ config: { kind: "file", path: file }, ca: { kind: "dir", path: join(dir, "ca") } }, who, store, silentLogger());
    expect(ca).toBeInstanceOf(FileCaClient);
    expect(await readdir(join(dir, "ca"))).not.toEqual([]);
    await source.start();
    try {
      expect(store.current.workloadByIp("198.18.1.10")?.name).toBe("sleep");
    } finally {
      await source.close();
    }
  });

  it("the control plane serves both config and certificates over one kind of connection", async () => {
    const dir = await tmp();
    await writeFile(join(dir, "root.pem"), "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n");
    const controlPlane = { rootCert: join(dir, "root.pem"), tokenFile: join(dir, "token"), identity: "spiffe://cluster.local/ns/istio-system/sa/istiod" };
    const address = "https://198.18.0.2:15012";
    const { source, ca } = await openSources(
      { config: { kind: "xds", address }, ca: { kind: "grpc", address }, controlPlane },
      { ...who, nodeId: "waypoint~demo/waypoint" },
      new StateStore(),
      silentLogger(),
    );
    expect(source).toBeInstanceOf(XdsClient);
    expect(ca).toBeInstanceOf(GrpcCaClient);
    await source.close();
  });

  it("names ROOT_CERT when the control plane's root certificate cannot be read", async () => {
    const controlPlane = {
      rootCert: "/nonexistent/al-root.pem",
      tokenFile: "/nonexistent/token",
      identity: "spiffe://cluster.local/ns/istio-system/sa/istiod",
    };
    const opening = openSources(
      { config: { kind: "xds", address: "https://198.18.0.2:15012" }, ca: { kind: "dir", path: "/nonexistent" }, controlPlane },
      who,
      new StateStore(),
      silentLogger(),
    );
    await expect(opening).rejects.toBeInstanceOf(MeshError);
    await expect(opening).rejects.toThrow(/ROOT_CERT/);
  });
});
