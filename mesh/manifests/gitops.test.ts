import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse, parseAllDocuments } from "yaml";
import { describe, expect, it } from "vitest";
import { renderGitOpsTree } from "./gitops.ts";
import type { KubeObject } from "./mesh.ts";
import { validateObject } from "./validate.ts";

const tree = renderGitOpsTree({
  repoURL: "https://example.com/ambient-lab.git",
  revision: "main",
  path: "deploy",
  versions: { gatewayApi: "v1.3.0", certManager: "v1.18.2", kubePrometheusStack: "75.15.1" },
  mesh: { namespace: "istio-system", trustDomain: "cluster.local", logLevel: "info", images: { controlPlane: "ambient-lab/control-plane:0.1.0", ztunnel: "ambient-lab/ztunnel:0.1.0" }, pullPolicy: "IfNotPresent" },
});

describe("GitOps tree", () => {
  it("has the expected files (golden listing and content)", () => {
    const golden = join(import.meta.dirname, "testdata", "gitops-tree.yaml");
    const text = [...tree.entries()].map(([p, c]) => `# ${p}\n${c}`).join("---\n");
    if (process.env.UPDATE_GOLDEN) writeFileSync(golden, text);
    expect(text).toBe(readFileSync(golden, "utf8"));
  });

  it("every app's kustomization lists exactly its files, and every Kubernetes object validates", () => {
    for (const app of ["mesh-crds", "mesh", "samples"]) {
      const k = parse(tree.get(`${app}/kustomization.yaml`)!) as { resources: string[] };
      const files = [...tree.keys()].filter((p) => p.startsWith(`${app}/`) && !p.endsWith("kustomization.yaml")).map((p) => p.slice(app.length + 1));
      expect(k.resources.sort()).toEqual(files.sort());
      for (const f of files) for (const doc of parseAllDocuments(tree.get(`${app}/${f}`)!)) validateObject(doc.toJS() as KubeObject);
    }
  });

  it("installs cert-manager and kube-prometheus-stack from Helm, pinned, for ArgoCD and Flux", () => {
    const app = parse(tree.get("argocd/cert-manager.yaml")!) as { spec: { source: { chart: string; targetRevision: string } } };
    expect(app.spec.source).toMatchObject({ chart: "cert-manager", targetRevision: "v1.18.2" });
    const flux = parseAllDocuments(tree.get("flux/kube-prometheus-stack.yaml")!).map((d) => d.toJS() as { kind: string; spec: { chart?: { spec: { version: string } } } });
    expect(flux.map((d) => d.kind)).toEqual(["HelmRepository", "HelmRelease"]);
    expect(flux[1]!.spec.chart!.spec.version).toBe("75.15.1");
  });

  it("CRDs sync in an earlier wave, and Flux applies the mesh after them", () => {
    const wave = (p: string) => (parse(tree.get(p)!) as { metadata: { annotations: Record<string, string> } }).metadata.annotations["argocd.argoproj.io/sync-wave"];
    expect(Number(wave("argocd/mesh-crds.yaml"))).toBeLessThan(Number(wave("argocd/mesh.yaml")));
    expect((parse(tree.get("flux/mesh.yaml")!) as { spec: { dependsOn: Array<{ name: string }> } }).spec.dependsOn).toEqual([{ name: "ambient-lab-mesh-crds" }]);
    expect([...tree.values()].some((c) => /kind: Secret\b/.test(c))).toBe(false);
    expect((parse(tree.get("flux/mesh-crds.yaml")!) as { spec: { dependsOn: Array<{ name: string }> } }).spec.dependsOn).toEqual([{ name: "gateway-api-crds" }]);
    expect(Number(wave("argocd/gateway-api-crds.yaml"))).toBeLessThan(Number(wave("argocd/mesh-crds.yaml")));
  });
});
