// The whole program under mocks with `ambient-lab:mesh: istio` (issue 16): upstream Istio's charts,
// pinned and in order, instead of our mesh; the same samples and benchmark, with Istio's injection.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { ISTIO_CHART_REPO, ISTIO_VERSION, missingRequests, nameProblems, nonRootProblems, podSecurityProblems } from "../mesh/manifests/index.ts";
import type { KubeObject } from "../mesh/manifests/index.ts";
import { commandStdout, installMocks, settle, valueOf as value, waitsFor, type Registered } from "./testing/mocks.ts";

const registered = installMocks({
  stack: "dev",
  outputs: (type, name) => (type === "command:local:Command" ? { stdout: commandStdout(name) } : undefined),
});
const stackFile = parse(readFileSync(join(import.meta.dirname, "..", "Pulumi.dev.yaml"), "utf8")) as { config: Record<string, unknown> };
pulumi.runtime.setAllConfig({
  ...Object.fromEntries(Object.entries(stackFile.config).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)])),
  // As `pulumi config set ambient-lab:mesh istio` stores it: a plain word.
  "ambient-lab:mesh": "istio",
});

let program: typeof import("../index.ts");
beforeAll(async () => {
  program = await import("../index.ts");
});

const charts = () =>
  registered.filter(
    (r) => r.type === "kubernetes:helm.sh/v4:Chart" && r.inputs.repositoryOpts && (r.inputs.repositoryOpts as { repo: string }).repo === ISTIO_CHART_REPO,
  );
const chart = (name: string) => charts().find((r) => r.inputs.chart === name)!;
const kube = (kind: string, name: string, namespace?: string) =>
  registered.find(
    (r) =>
      r.inputs.kind === kind &&
      (r.inputs.metadata as { name?: string })?.name === name &&
      (namespace === undefined || (r.inputs.metadata as { namespace?: string }).namespace === namespace),
  );

describe("the Pulumi program with ambient-lab:mesh istio", () => {
  it("installs Istio's four charts, pinned, instead of our mesh, and builds none of our images", async () => {
    await settle(150);
    expect(program.meshKind).toBe("istio");
    expect(program.meshImages).toBeUndefined();
    expect(await value(program.controlPlaneAddress)).toBe("https://istiod.istio-system.svc:15012");
    const types = registered.map((r) => r.type);
    expect(types).toContain("ambient-lab:mesh:IstioMesh");
    expect(types).not.toContain("ambient-lab:mesh:Mesh");
    expect(types).not.toContain("ambient-lab:images:MeshImages");
    expect(types).not.toContain("docker-build:index:Image");
    expect(charts().map((c) => [c.inputs.chart, c.inputs.name, c.inputs.version, c.inputs.namespace])).toEqual([
      ["base", "istio-base", ISTIO_VERSION, "istio-system"],
      ["istiod", "istiod", ISTIO_VERSION, "istio-system"],
      ["cni", "istio-cni", ISTIO_VERSION, "istio-system"],
      ["ztunnel", "ztunnel", ISTIO_VERSION, "istio-system"],
    ]);
    expect(chart("istiod").inputs.values).toMatchObject({ profile: "ambient", meshConfig: { trustDomain: "cluster.local" } });
    // No object of our mesh: no control plane Deployment, no ztunnel DaemonSet of ours.
    expect(registered.some((r) => r.inputs.kind === "DaemonSet" && (r.inputs.metadata as { name?: string })?.name === "ztunnel")).toBe(false);
  });

  it("orders them as Istio needs: after the Gateway API CRDs and the mesh CA, base, istiod, cni, ztunnel", async () => {
    await settle();
    const isChart = (name: string) => (r: Registered) => r === chart(name);
    expect(waitsFor(registered, chart("istiod"), isChart("base"))).toBe(true);
    expect(waitsFor(registered, chart("cni"), isChart("istiod"))).toBe(true);
    expect(waitsFor(registered, chart("ztunnel"), isChart("cni"))).toBe(true);
    // istiod reads its plug-in CA from cacerts: cert-manager's Certificate comes first.
    expect(waitsFor(registered, chart("base"), (r) => r.type === "kubernetes:cert-manager.io/v1:Certificate")).toBe(true);
    expect(waitsFor(registered, chart("base"), (r) => r.type === "ambient-lab:addons:GatewayApiCrds" || r.name.startsWith("gateway-api"))).toBe(true);
    // The samples wait for Istio (their pods must be enrolled or injected when they start).
    const deployment = registered.find((r) => r.inputs.kind === "Deployment" && (r.inputs.metadata as { namespace?: string }).namespace === "sidecar-demo")!;
    expect(waitsFor(registered, deployment, isChart("ztunnel"))).toBe(true);
  });

  it("labels the samples for Istio: ambient enrolment, Istio's sidecar injection, and no proxy of ours", async () => {
    await settle();
    const labels = (ns: string) => (kube("Namespace", ns)!.inputs.metadata as { labels: Record<string, string> }).labels;
    expect(labels("ambient-demo")["istio.io/dataplane-mode"]).toBe("ambient");
    expect(labels("sidecar-demo")["istio-injection"]).toBe("enabled");
    expect(labels("sidecar-demo")["istio.io/dataplane-mode"]).toBeUndefined();
    const podSpecs = registered
      .filter((r) => (r.inputs.kind === "Deployment" || r.inputs.kind === "Job") && (r.inputs.metadata as { namespace?: string }).namespace === "sidecar-demo")
      .map((r) => (r.inputs.spec as { template: { spec: { containers: Array<{ name: string }>; initContainers?: Array<{ name: string }> } } }).template.spec);
    expect(podSpecs.length).toBeGreaterThan(1);
    for (const s of podSpecs) expect([...s.containers, ...(s.initContainers ?? [])].map((c) => c.name)).not.toContain("ambient-lab-proxy");
    expect(kube("Gateway", "waypoint", "waypoint-demo")!.inputs.spec).toMatchObject({ gatewayClassName: "istio-waypoint" });
  });

  it("scrapes Istio's proxies where its charts expose them, with the same dashboard", async () => {
    await settle();
    const pm = (name: string) => kube("PodMonitor", name)?.inputs.spec as { podMetricsEndpoints: Array<{ port: string; path: string }> } | undefined;
    expect(pm("istio-ztunnel")!.podMetricsEndpoints[0]).toMatchObject({ port: "ztunnel-stats", path: "/stats/prometheus" });
    expect(pm("istio-sidecar")!.podMetricsEndpoints[0]).toMatchObject({ port: "http-envoy-prom", path: "/stats/prometheus" });
    expect(pm("istio-istiod")!.podMetricsEndpoints[0]).toMatchObject({ port: "http-monitoring" });
    expect(pm("ambient-lab-ztunnel")).toBeUndefined();
    expect(kube("ConfigMap", "ambient-lab-dashboard")).toBeDefined();
  });

  it("every Kubernetes object passes the kubelet's, admission's and the registry's rules", async () => {
    await settle();
    const objects = registered
      .filter((r) => r.type.startsWith("kubernetes:") && typeof r.inputs.kind === "string")
      .map((r) => r.inputs as unknown as KubeObject);
    expect(nonRootProblems(objects)).toEqual([]);
    expect(missingRequests(objects)).toEqual([]);
    expect(nameProblems(objects)).toEqual([]);
    expect(podSecurityProblems(objects)).toEqual([]);
  });

  it("benchmarks the same modes, names the mesh in the results and measures Istio's proxy containers", async () => {
    const run = (await value(program.benchmarkResults!)) as { mesh: string; modes: object };
    expect(run.mesh).toBe("istio");
    expect(Object.keys(run.modes)).toEqual(["baseline", "sidecar", "ambient", "waypoint"]);
    const usage = registered.find((r) => r.name === "bench-ambient-usage")!;
    expect(String(usage.inputs.create)).toContain(encodeURIComponent('container="istio-proxy"'));
  });
});
