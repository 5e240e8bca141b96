import { join } from "node:path";
import { parse, parseAllDocuments } from "yaml";
import { describe, expect, it } from "vitest";
import { testGitOpsOptions } from "../testing/index.ts";
import { renderGitOpsTree } from "./gitops.ts";
import type { KubeObject } from "./mesh.ts";
import { validateObject } from "./validate.ts";
import { expectGitOpsOrdered, expectGolden } from "../testing/expect.ts";

const tree = renderGitOpsTree(testGitOpsOptions());

type Doc = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; annotations?: Record<string, string> };
  spec: Record<string, unknown>;
};
const docs = (p: string): Doc[] => parseAllDocuments(tree.get(p)!).map((d) => d.toJS() as Doc);
const APPS = [
  "mesh-crds",
  "mesh-ca",
  "mesh",
  "monitoring",
  "samples",
  "benchmark",
  "flux/releases/cert-manager",
  "flux/releases/kube-prometheus-stack",
  "flux/releases/metrics-server",
];

describe("GitOps tree", () => {
  it("has the expected files (golden listing and content)", () => {
    const golden = join(import.meta.dirname, "testdata", "gitops-tree.yaml");
    const text = [...tree.entries()].map(([p, c]) => `# ${p}\n${c}`).join("---\n");
    expectGolden(golden, text);
  });

  it("every app's kustomization lists exactly its files, and every Kubernetes object validates", () => {
    for (const app of APPS) {
      const k = parse(tree.get(`${app}/kustomization.yaml`)!) as { resources: string[] };
      const files = [...tree.keys()].filter((p) => p.startsWith(`${app}/`) && !p.endsWith("kustomization.yaml")).map((p) => p.slice(app.length + 1));
      expect(k.resources.sort()).toEqual(files.sort());
      for (const f of files)
        for (const doc of parseAllDocuments(tree.get(`${app}/${f}`)!)) if (!app.startsWith("flux/")) validateObject(doc.toJS() as KubeObject);
    }
  });

  it("installs cert-manager and kube-prometheus-stack from Helm, pinned, for ArgoCD and Flux", () => {
    const app = parse(tree.get("argocd/cert-manager.yaml")!) as { spec: { source: { chart: string; targetRevision: string } } };
    expect(app.spec.source).toMatchObject({ chart: "cert-manager", targetRevision: "v1.18.2" });
    // metrics-server, for kubectl top (issue 10, problem 10).
    expect((parse(tree.get("argocd/metrics-server.yaml")!) as { spec: { source: unknown } }).spec.source).toMatchObject({
      chart: "metrics-server",
      targetRevision: "3.12.2",
    });
    const release = docs("flux/releases/kube-prometheus-stack/helmrelease-flux-system-kube-prometheus-stack.yaml")[0]!;
    expect(release.spec).toMatchObject({
      chart: { spec: { version: "75.15.1" } },
      values: { prometheus: { prometheusSpec: { podMonitorSelectorNilUsesHelmValues: false } } },
    });
    // Flux can only depend on Kustomizations, so each release is wrapped in one that waits for it.
    const wrapper = docs("flux/kube-prometheus-stack.yaml");
    expect(wrapper.map((d) => d.kind)).toEqual(["Kustomization"]);
    expect(wrapper[0]!.spec).toMatchObject({ path: "./deploy/flux/releases/kube-prometheus-stack", wait: true });
  });

  it("every dependency is ordered: Flux dependsOn names an existing Kustomization, and ArgoCD syncs it in an earlier wave", () => {
    const kustomizations = expectGitOpsOrdered(tree);
    const edges = [...kustomizations.values()].reduce((n, d) => n + d.length, 0);
    expect(edges).toBeGreaterThanOrEqual(7);
    expect(kustomizations.get("ambient-lab-mesh")).toEqual(["ambient-lab-mesh-crds", "ambient-lab-mesh-ca"]);
    expect(kustomizations.get("ambient-lab-mesh-ca")).toEqual(["ambient-lab-cert-manager"]);
  });

  it("cert-manager issues the mesh CA before the control plane starts; no secret material is rendered", () => {
    expect(docs("mesh-ca/certificate-istio-system-ambient-lab-mesh-ca.yaml")[0]!.spec).toMatchObject({ secretName: "cacerts", isCA: true });
    expect(tree.has("mesh-ca/namespace-istio-system.yaml")).toBe(true);
    expect([...tree.keys()].filter((p) => p.startsWith("mesh/namespace-"))).toEqual([]);
    expect([...tree.values()].some((c) => /kind: Secret\b/.test(c))).toBe(false);
  });

  it("ArgoCD apps retry, CRDs are never pruned by either tool, and Flux's root applies each release once (issue 10, problem 8)", () => {
    const argo = [...tree.keys()].filter((p) => p.startsWith("argocd/")).map((p) => docs(p)[0]!);
    for (const app of [...argo, docs("root-app.yaml")[0]!])
      expect((app.spec.syncPolicy as { retry?: { limit: number } }).retry?.limit, app.metadata.name).toBeGreaterThan(0);
    expect(docs("argocd/gateway-api-crds.yaml")[0]!.spec.syncPolicy).toMatchObject({ automated: { prune: false } });
    const fluxCrds = docs("flux/gateway-api-crds.yaml").find((d) => d.kind === "Kustomization")!;
    expect(fluxCrds.spec.prune).toBe(false);
    // flux/ as a bootstrap path: kustomize builds what its kustomization.yaml lists, releases/ only through their Kustomizations.
    const k = parse(tree.get("flux/kustomization.yaml")!) as { resources: string[] };
    expect(k.resources).toEqual(
      [...tree.keys()]
        .filter((p) => /^flux\/[^/]+\.yaml$/.test(p) && p !== "flux/kustomization.yaml")
        .map((p) => p.slice(5))
        .sort(),
    );
    expect(k.resources.some((r) => r.includes("releases"))).toBe(false);
  });

  it("renders the PodMonitors and dashboard after kube-prometheus-stack, and the benchmark as a folder applied by hand", () => {
    expect([...tree.keys()].filter((p) => p.startsWith("monitoring/podmonitor-")).length).toBe(4);
    expect(tree.has("argocd/benchmark.yaml") || tree.has("flux/benchmark.yaml")).toBe(false);
    expect(docs("benchmark/job-ambient-demo-k6-ambient.yaml")[0]!.kind).toBe("Job");
    expect(docs("root-app.yaml")[0]!.spec).toMatchObject({ source: { path: "deploy/argocd" } });
  });
});
