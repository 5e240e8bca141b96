// The whole program under mocks, with the dev stack's configuration.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { commandStdout, installMocks, settle, valueOf as value } from "./testing/mocks.ts";

const registered = installMocks({
  stack: "dev",
  outputs: (type, name) => {
    if (type === "docker-build:index:Image") return { digest: "sha256:0123" };
    if (type !== "command:local:Command") return undefined;
    return { stdout: commandStdout(name) };
  },
});
const types = () => registered.map((r) => r.type);
const stackFile = parse(readFileSync(join(import.meta.dirname, "..", "Pulumi.dev.yaml"), "utf8")) as { config: Record<string, unknown> };
pulumi.runtime.setAllConfig(Object.fromEntries(Object.entries(stackFile.config).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)])));

let program: typeof import("../index.ts");
beforeAll(async () => {
  program = await import("../index.ts");
});

describe("the Pulumi program with the dev stack", () => {
  it("validates the stack file's configuration and installs the mesh", async () => {
    expect(program.clusterProvider).toBe("kind");
    expect(await value(program.meshNamespace)).toBe("istio-system");
    expect(await value(program.controlPlaneAddress)).toBe("https://istiod.istio-system.svc:15012");
    await settle(); // children register asynchronously
    expect(types()).toContain("ambient-lab:mesh:Mesh");
    expect(types()).toContain("ambient-lab:cluster:KindCluster");
    expect(types()).toContain("ambient-lab:samples:Samples");
    expect(types()).toContain("ambient-lab:images:MeshImages");
    expect(types()).toContain("kubernetes:yaml/v2:ConfigFile");
    expect(types()).toContain("ambient-lab:addons:MeshCa");
    expect(types()).toContain("kubernetes:cert-manager.io/v1:Certificate");
    // The mesh namespace is created once, by MeshCa.
    expect(registered.filter((r) => r.type === "kubernetes:core/v1:Namespace" && (r.inputs.metadata as { name: string }).name === "istio-system")).toHaveLength(1);
    expect(await value(program.sampleNamespaces)).toEqual(["ambient-demo", "waypoint-demo", "sidecar-demo", "baseline"]);
    expect(Object.keys((await value(program.benchmarkResults!)) as object)).toEqual(["baseline", "sidecar", "ambient", "waypoint"]);
    expect(await value(program.clusterName)).toBe("ambient-lab");
    expect(types()).toContain("kubernetes:apps/v1:DaemonSet");
    // metrics-server for kubectl top, accepting kind's self-signed kubelet certificates (issue 10, problem 10).
    const ms = registered.find((r) => r.type === "kubernetes:helm.sh/v4:Chart" && r.inputs.chart === "metrics-server")!;
    expect(ms.inputs).toMatchObject({ version: "3.12.2", namespace: "kube-system", values: { args: ["--kubelet-insecure-tls"] } });
  });

  it("waits for what matters before going on (issue 10, problem 6): the mesh CA Ready, waypoint Gateways Programmed", async () => {
    await settle();
    const annotations = (r: { inputs: Record<string, unknown> }) => (r.inputs.metadata as { annotations?: Record<string, string> }).annotations ?? {};
    const certificates = registered.filter((r) => r.type === "kubernetes:cert-manager.io/v1:Certificate");
    expect(certificates.length).toBeGreaterThan(0);
    for (const c of certificates) expect(annotations(c)["pulumi.com/waitFor"]).toBe("condition=Ready");
    const gateways = registered.filter((r) => r.type === "kubernetes:gateway.networking.k8s.io/v1:Gateway");
    expect(gateways.length).toBeGreaterThan(0);
    for (const g of gateways) expect(annotations(g)["pulumi.com/waitFor"]).toBe("condition=Programmed");
  });

  it("the EKS example stack's configuration is valid too", async () => {
    const { parseStackConfig } = await import("./config.ts");
    const eks = parse(readFileSync(join(import.meta.dirname, "..", "Pulumi.eks.yaml"), "utf8")) as { config: Record<string, unknown> };
    const raw = Object.fromEntries(Object.entries(eks.config).filter(([k]) => k.startsWith("ambient-lab:")).map(([k, v]) => [k.slice("ambient-lab:".length), v]));
    expect(parseStackConfig(raw).cluster.eks.instanceType).toBe("t3.medium");
  });
});
