// `npm run render -- --mesh istio` (issue 16): the same GitOps tree with upstream Istio's charts in our
// mesh's place, through the same checks as ours: golden, kustomizations exact, objects valid against the
// schemas, ordering (Flux dependsOn and ArgoCD waves agree), the cluster's rules, `kubectl kustomize`.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { parse, parseAllDocuments } from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { expectGitOpsOrdered, expectGolden } from "../testing/expect.ts";
import { testGitOpsOptions } from "../testing/index.ts";
import { renderGitOpsTree } from "./gitops.ts";
import { ISTIO_CHART_REPO, ISTIO_VERSION } from "./istio.ts";
import { missingRequests, nameProblems, nonRootProblems, podSecurityProblems } from "./kubelet-rules.ts";
import type { KubeObject } from "./mesh.ts";
import { parseRenderArgs } from "./render-args.ts";
import { validateObject } from "./validate.ts";

const options = testGitOpsOptions(["baseline", "sidecar", "ambient", "waypoint"]);
// Without our images, as `npm run render -- --mesh istio` passes it (no --registry).
const meshWithoutImages: Omit<typeof options.mesh, "images"> = { ...options.mesh };
delete (meshWithoutImages as { images?: unknown }).images;
const tree = renderGitOpsTree({ ...options, meshKind: "istio", mesh: meshWithoutImages });
type Doc = { apiVersion: string; kind: string; metadata: { name: string; annotations?: Record<string, string> }; spec: Record<string, unknown> };
const docs = (p: string): Doc[] => parseAllDocuments(tree.get(p)!).map((d) => d.toJS() as Doc);
const dir = mkdtempSync(join(tmpdir(), "al-istio-tree-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the GitOps tree for Istio", () => {
  it("has Istio's four charts, pinned, and none of our mesh (golden)", () => {
    expectGolden(join(import.meta.dirname, "testdata", "gitops-tree-istio.yaml"), [...tree.entries()].map(([p, c]) => `# ${p}\n${c}`).join("---\n"));
    for (const [release, chart] of [
      ["istio-base", "base"],
      ["istiod", "istiod"],
      ["istio-cni", "cni"],
      ["ztunnel", "ztunnel"],
    ]) {
      expect(docs(`argocd/${release}.yaml`)[0]!.spec.source).toMatchObject({
        repoURL: ISTIO_CHART_REPO,
        chart,
        targetRevision: ISTIO_VERSION,
        helm: { releaseName: release },
      });
      const hr = docs(`flux/releases/${release}/helmrelease-flux-system-${release}.yaml`)[0]!;
      expect(hr.spec).toMatchObject({ releaseName: release, targetNamespace: "istio-system", chart: { spec: { chart, version: ISTIO_VERSION } } });
    }
    expect([...tree.keys()].filter((p) => p.startsWith("mesh/") || p.startsWith("mesh-crds/"))).toEqual([]);
    // No image or proxy of ours in any pod.
    const pods = [...tree.entries()]
      .filter(([p]) => !p.startsWith("flux/") && !p.startsWith("argocd/") && !p.endsWith("kustomization.yaml") && p !== "root-app.yaml")
      .flatMap(([, c]) =>
        parseAllDocuments(c).map(
          (d) =>
            d.toJS() as {
              spec?: { template?: { spec: { containers: Array<{ name: string; image: string }>; initContainers?: Array<{ name: string; image: string }> } } };
            },
        ),
      )
      .flatMap((o) => (o.spec?.template ? [...o.spec.template.spec.containers, ...(o.spec.template.spec.initContainers ?? [])] : []));
    expect(pods.length).toBeGreaterThan(5);
    expect(pods.filter((c) => c.image.includes("ambient-lab/") || c.name === "ambient-lab-proxy")).toEqual([]);
    // Istio's base holds its CRDs: never pruned.
    expect(docs("argocd/istio-base.yaml")[0]!.spec.syncPolicy).toMatchObject({ automated: { prune: false } });
  });

  it("orders Istio as its docs do, after the Gateway API CRDs and the mesh CA; Flux and ArgoCD agree", () => {
    const ks = expectGitOpsOrdered(tree);
    const deps = (n: string) => ks.get(`ambient-lab-${n}`)!;
    expect(deps("istio-base")).toEqual(["ambient-lab-gateway-api-crds"]);
    expect(deps("istiod")).toEqual(["ambient-lab-istio-base", "ambient-lab-mesh-ca"]);
    expect(deps("istio-cni")).toEqual(["ambient-lab-istiod"]);
    expect(deps("ztunnel")).toEqual(["ambient-lab-istio-cni"]);
    expect(deps("samples")).toEqual(["ambient-lab-ztunnel"]);
  });

  it("every object validates, every pod would start, and sidecar-demo is labelled for Istio's injector", () => {
    const objects = [...tree.entries()]
      .filter(([p]) => p.endsWith(".yaml") && !p.startsWith("flux/") && !p.startsWith("argocd/") && p !== "root-app.yaml")
      .flatMap(([, text]) => parseAllDocuments(text).map((d) => d.toJS() as KubeObject))
      .filter((o) => !o.apiVersion.startsWith("kustomize.config.k8s.io/"));
    for (const o of objects) validateObject(o);
    expect(nonRootProblems(objects)).toEqual([]);
    expect(missingRequests(objects)).toEqual([]);
    expect(nameProblems(objects)).toEqual([]);
    expect(podSecurityProblems(objects)).toEqual([]);
    const ns = objects.find((o) => o.kind === "Namespace" && o.metadata.name === "sidecar-demo")!;
    expect(ns.metadata.labels).toMatchObject({ "istio-injection": "enabled" });
  });

  it("kubectl kustomize builds every folder", () => {
    for (const [path, text] of tree) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
    const folders = [...tree.keys()].filter((p) => p.endsWith("/kustomization.yaml")).map((p) => dirname(p));
    expect(folders).toContain("flux/releases/istiod");
    for (const folder of folders) {
      const r = spawnSync("kubectl", ["kustomize", join(dir, folder)], { encoding: "utf8" });
      expect(r.status, `kubectl kustomize ${folder}: ${r.stderr}`).toBe(0);
      const listed = (parse(tree.get(`${folder}/kustomization.yaml`)!) as { resources: string[] }).resources;
      const docsIn = (text: string) => parseAllDocuments(text).length;
      expect(docsIn(r.stdout), folder).toBe(listed.reduce((n, f) => n + docsIn(tree.get(`${folder}/${f}`)!), 0));
    }
  });

  it("npm run render takes --mesh istio without a registry, and refuses one", () => {
    expect(parseRenderArgs(["--mesh", "istio", "--repo", "https://example.com/x.git"], undefined)).toMatchObject({ mesh: "istio", registry: "" });
    expect(() => parseRenderArgs(["--mesh", "istio", "--registry", "ghcr.io/x", "--repo", "https://example.com/x.git"], undefined)).toThrow(/drop it/);
    expect(() => parseRenderArgs(["--mesh", "linkerd", "--repo", "https://example.com/x.git"], undefined)).toThrow(/must be ambient-lab/);
    expect(() => parseRenderArgs(["--repo", "https://example.com/x.git"], undefined)).toThrow(/--registry is required/);
  });
});
