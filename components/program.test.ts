// The whole program under mocks, with the dev stack's configuration.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { missingRequests, nameProblems, nonRootProblems, podSecurityProblems } from "../mesh/manifests/index.ts";
import type { KubeObject } from "../mesh/manifests/index.ts";
import { commandStdout, installMocks, settle, valueOf as value, waitsFor, type Registered } from "./testing/mocks.ts";

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
    expect(registered.filter((r) => r.type === "kubernetes:core/v1:Namespace" && (r.inputs.metadata as { name: string }).name === "istio-system")).toHaveLength(
      1,
    );
    expect(await value(program.sampleNamespaces)).toEqual(["ambient-demo", "waypoint-demo", "sidecar-demo", "baseline"]);
    expect(Object.keys(((await value(program.benchmarkResults!)) as { modes: object }).modes)).toEqual(["baseline", "sidecar", "ambient", "waypoint"]);
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

  it("every Kubernetes object it creates passes the kubelet's, admission's and the registry's rules", async () => {
    await settle();
    const objects = registered
      .filter((r) => r.type.startsWith("kubernetes:") && typeof r.inputs.kind === "string")
      .map((r) => r.inputs as unknown as KubeObject);
    expect(objects.filter((o) => o.kind === "Deployment" || o.kind === "Job" || o.kind === "DaemonSet").length).toBeGreaterThan(10);
    expect(nonRootProblems(objects)).toEqual([]);
    expect(missingRequests(objects)).toEqual([]);
    expect(nameProblems(objects)).toEqual([]);
    expect(podSecurityProblems(objects)).toEqual([]);
  });

  it("creates things in the order a cluster needs (the dependency graph the engine is given)", async () => {
    await settle();
    const all = (type: string) => registered.filter((r) => r.type === type);
    const one = (type: string, name: string) => registered.find((r) => r.type === type && r.name === name)!;
    const isType = (type: string) => (r: Registered) => r.type === type;
    // Images are loaded into the kind cluster only after it exists.
    for (const load of registered.filter((r) => r.type === "command:local:Command" && r.name.endsWith("-load")))
      expect(
        waitsFor(registered, load, (r) => r.name === "kind-create"),
        load.name,
      ).toBe(true);
    // Every cert-manager object waits for cert-manager's API check (webhook answering, CA bundle injected).
    const check = (r: Registered) => r.type === "kubernetes:batch/v1:Job" && (r.inputs.metadata as { name: string }).name === "ambient-lab-cert-manager-check";
    expect(registered.some(check)).toBe(true);
    expect(waitsFor(registered, registered.find(check)!, (r) => r.type === "kubernetes:helm.sh/v4:Chart" && r.inputs.chart === "cert-manager")).toBe(true);
    const certManagerObjects = registered.filter((r) => r.type.startsWith("kubernetes:cert-manager.io/"));
    expect(certManagerObjects.length).toBeGreaterThan(1);
    for (const c of certManagerObjects) expect(waitsFor(registered, c, check), c.name).toBe(true);
    // Every custom resource waits for what defines its kind: a CRD the program creates, or the chart or file that carries it.
    const crdSources: Record<string, (r: Registered) => boolean> = {
      "cert-manager.io": (r) => r.type === "kubernetes:helm.sh/v4:Chart" && r.inputs.chart === "cert-manager",
      "monitoring.coreos.com": (r) => r.type === "kubernetes:helm.sh/v4:Chart" && r.inputs.chart === "kube-prometheus-stack",
      "gateway.networking.k8s.io": (r) => r.type === "kubernetes:yaml/v2:ConfigFile" && r.name === "gateway-api-crds",
    };
    const crds = all("kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition").map(
      (r) => r.inputs as { spec: { group: string; names: { kind: string } } },
    );
    const builtIn =
      /^kubernetes:(core|apps|batch|rbac\.authorization\.k8s\.io|apiextensions\.k8s\.io|admissionregistration\.k8s\.io|policy|networking\.k8s\.io)\//;
    const customs = registered.filter(
      (r) =>
        /^kubernetes:[a-z0-9.-]+\.[a-z]+\/v[0-9a-z]+:/.test(r.type) &&
        !builtIn.test(r.type) &&
        !r.type.startsWith("kubernetes:helm.sh/") &&
        !r.type.startsWith("kubernetes:yaml/"),
    );
    expect(customs.length).toBeGreaterThan(5);
    for (const cr of customs) {
      const [group, kind] = [cr.type.split(":")[1]!.split("/")[0]!, cr.type.split(":")[2]!];
      const ownCrd = crds.some((c) => c.spec.group === group && c.spec.names.kind === kind);
      const source = ownCrd
        ? (r: Registered) =>
            r.type === "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition" &&
            (r.inputs as { spec: { group: string; names: { kind: string } } }).spec.names.kind === kind
        : crdSources[group];
      expect(source, `${cr.type}: no CRD for group ${group} in the program`).toBeDefined();
      expect(waitsFor(registered, cr, source!), `${cr.type} ${cr.name} waits for its CRD`).toBe(true);
    }
    // The control plane starts after the mesh CA Certificate is Ready (else it makes a root of its own).
    const istiod = one("kubernetes:apps/v1:Deployment", "mesh-deployment-istio-system-istiod");
    expect(waitsFor(registered, istiod, isType("kubernetes:cert-manager.io/v1:Certificate"))).toBe(true);
    // Each benchmark runs after the samples are up, and the waypoint's after its Gateway is Programmed.
    for (const job of all("kubernetes:batch/v1:Job").filter((j) => j.name.startsWith("bench-"))) {
      expect(
        waitsFor(registered, job, (r) => r.type === "kubernetes:apps/v1:Deployment" && r.name.startsWith("samples-deployment-")),
        job.name,
      ).toBe(true);
      expect(waitsFor(registered, job, isType("kubernetes:cert-manager.io/v1:Certificate")), job.name).toBe(true);
    }
    expect(waitsFor(registered, one("kubernetes:batch/v1:Job", "bench-waypoint-job"), isType("kubernetes:gateway.networking.k8s.io/v1:Gateway"))).toBe(true);
  });

  it("the EKS example stack's configuration is valid too", async () => {
    const { parseStackConfig } = await import("./config.ts");
    const eks = parse(readFileSync(join(import.meta.dirname, "..", "Pulumi.eks.yaml"), "utf8")) as { config: Record<string, unknown> };
    const raw = Object.fromEntries(
      Object.entries(eks.config)
        .filter(([k]) => k.startsWith("ambient-lab:"))
        .map(([k, v]) => [k.slice("ambient-lab:".length), v]),
    );
    expect(parseStackConfig(raw).cluster.eks.instanceType).toBe("t3.medium");
  });
});
