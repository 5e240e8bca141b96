// Pure: the mesh install as a GitOps tree (the rendered-manifests pattern). One folder per app with a
// kustomization.yaml; CRDs in their own app, an earlier ArgoCD sync wave than what uses them; ArgoCD
// Applications and Flux Kustomizations chained with dependsOn. No secret material is ever rendered.
import { stringify } from "yaml";
import { meshObjects, policyCrds, type KubeObject, type MeshManifestOptions } from "./mesh.ts";
import { sampleObjects } from "./samples.ts";

export interface GitOpsOptions {
  mesh: MeshManifestOptions;
  /** Pinned versions of what is installed from upstream rather than from this tree. */
  versions: { gatewayApi: string; certManager: string; kubePrometheusStack: string };
  /** Where the tree lives in Git: ArgoCD and Flux point at <repoURL>@<revision>:<path>/<app>. */
  repoURL: string;
  revision: string;
  path: string;
}

interface App {
  name: string;
  /** ArgoCD sync wave: CRDs before controllers before resources that use them. */
  wave: number;
  dependsOn: string[];
  objects: KubeObject[];
}

function fileName(o: KubeObject): string {
  return `${o.kind.toLowerCase()}-${o.metadata.namespace ? `${o.metadata.namespace}-` : ""}${o.metadata.name}.yaml`.replace(/[^a-z0-9.-]/g, "-");
}

function apps(o: GitOpsOptions): App[] {
  const crds = policyCrds();
  const crdNames = new Set(crds.map((c) => c.metadata.name));
  const rest = meshObjects(o.mesh).filter((x) => !(x.kind === "CustomResourceDefinition" && crdNames.has(x.metadata.name)));
  return [
    { name: "mesh-crds", wave: -1, dependsOn: ["gateway-api-crds"], objects: crds },
    { name: "mesh", wave: 0, dependsOn: ["mesh-crds"], objects: rest },
    { name: "samples", wave: 1, dependsOn: ["mesh"], objects: sampleObjects() },
  ];
}

/** Upstream installs: Gateway API CRDs from their Git release, cert-manager and kube-prometheus-stack from Helm. */
interface Upstream {
  name: string;
  wave: number;
  namespace: string;
  argoSource: Record<string, unknown>;
  flux: KubeObject[];
}

function upstreams(o: GitOpsOptions): Upstream[] {
  const helm = (name: string, repo: string, chart: string, version: string, namespace: string, wave: number, values: Record<string, unknown>): Upstream => ({
    name,
    wave,
    namespace,
    argoSource: { repoURL: repo, chart, targetRevision: version, helm: { valuesObject: values } },
    flux: [
      { apiVersion: "source.toolkit.fluxcd.io/v1", kind: "HelmRepository", metadata: { name, namespace: "flux-system" }, spec: { interval: "1h", url: repo } },
      {
        apiVersion: "helm.toolkit.fluxcd.io/v2",
        kind: "HelmRelease",
        metadata: { name, namespace: "flux-system" },
        spec: {
          interval: "10m",
          targetNamespace: namespace,
          install: { createNamespace: true, crds: "CreateReplace" },
          upgrade: { crds: "CreateReplace" },
          chart: { spec: { chart, version, sourceRef: { kind: "HelmRepository", name } } },
          values,
        },
      },
    ],
  });
  return [
    {
      name: "gateway-api-crds",
      wave: -2,
      namespace: "default",
      argoSource: { repoURL: "https://github.com/kubernetes-sigs/gateway-api.git", targetRevision: o.versions.gatewayApi, path: "config/crd/standard" },
      flux: [
        { apiVersion: "source.toolkit.fluxcd.io/v1", kind: "GitRepository", metadata: { name: "gateway-api", namespace: "flux-system" }, spec: { interval: "1h", url: "https://github.com/kubernetes-sigs/gateway-api.git", ref: { tag: o.versions.gatewayApi } } },
        { apiVersion: "kustomize.toolkit.fluxcd.io/v1", kind: "Kustomization", metadata: { name: "gateway-api-crds", namespace: "flux-system" }, spec: { interval: "1h", path: "./config/crd/standard", prune: false, wait: true, sourceRef: { kind: "GitRepository", name: "gateway-api" } } },
      ],
    },
    helm("cert-manager", "https://charts.jetstack.io", "cert-manager", o.versions.certManager, "cert-manager", -1, { crds: { enabled: true } }),
    helm("kube-prometheus-stack", "https://prometheus-community.github.io/helm-charts", "kube-prometheus-stack", o.versions.kubePrometheusStack, "monitoring", 0, { alertmanager: { enabled: false }, grafana: { enabled: true } }),
  ];
}

function argoApplication(app: App, o: GitOpsOptions): KubeObject {
  return {
    apiVersion: "argoproj.io/v1alpha1",
    kind: "Application",
    metadata: { name: `ambient-lab-${app.name}`, namespace: "argocd", annotations: { "argocd.argoproj.io/sync-wave": String(app.wave) } },
    spec: {
      project: "default",
      source: { repoURL: o.repoURL, targetRevision: o.revision, path: `${o.path}/${app.name}` },
      // Objects carry their own namespaces; this is only the default for any that do not.
      destination: { server: "https://kubernetes.default.svc", namespace: o.mesh.namespace },
      syncPolicy: { automated: { prune: true, selfHeal: true }, syncOptions: ["CreateNamespace=true", "ServerSideApply=true"] },
    },
  };
}

function fluxKustomization(app: App, o: GitOpsOptions): KubeObject {
  return {
    apiVersion: "kustomize.toolkit.fluxcd.io/v1",
    kind: "Kustomization",
    metadata: { name: `ambient-lab-${app.name}`, namespace: "flux-system" },
    spec: {
      interval: "10m",
      path: `./${o.path}/${app.name}`,
      prune: true,
      wait: true,
      timeout: "5m",
      sourceRef: { kind: "GitRepository", name: "ambient-lab" },
      // Upstream Kustomizations (gateway-api-crds) keep their own names; ours are prefixed.
      ...(app.dependsOn.length ? { dependsOn: app.dependsOn.map((d) => ({ name: d === "gateway-api-crds" ? d : `ambient-lab-${d}` })) } : {}),
    },
  };
}

/** path -> file content, sorted by path. */
export function renderGitOpsTree(o: GitOpsOptions): Map<string, string> {
  const files = new Map<string, string>();
  const yaml = (v: unknown) => stringify(v, { lineWidth: 0 });
  for (const app of apps(o)) {
    const names: string[] = [];
    for (const obj of app.objects) {
      if (obj.kind === "Secret") throw new Error(`refusing to render Secret ${obj.metadata.name}: secrets stay out of Git`);
      const annotated = { ...obj, metadata: { ...obj.metadata, annotations: { ...obj.metadata.annotations, "argocd.argoproj.io/sync-wave": String(app.wave) } } };
      const name = fileName(obj);
      names.push(name);
      files.set(`${app.name}/${name}`, yaml(annotated));
    }
    files.set(`${app.name}/kustomization.yaml`, yaml({ apiVersion: "kustomize.config.k8s.io/v1beta1", kind: "Kustomization", resources: names }));
    files.set(`argocd/${app.name}.yaml`, yaml(argoApplication(app, o)));
    files.set(`flux/${app.name}.yaml`, yaml(fluxKustomization(app, o)));
  }
  for (const u of upstreams(o)) {
    files.set(
      `argocd/${u.name}.yaml`,
      yaml({
        apiVersion: "argoproj.io/v1alpha1",
        kind: "Application",
        metadata: { name: `ambient-lab-${u.name}`, namespace: "argocd", annotations: { "argocd.argoproj.io/sync-wave": String(u.wave) } },
        spec: {
          project: "default",
          source: u.argoSource,
          destination: { server: "https://kubernetes.default.svc", namespace: u.namespace },
          syncPolicy: { automated: { prune: true, selfHeal: true }, syncOptions: ["CreateNamespace=true", "ServerSideApply=true"] },
        },
      }),
    );
    files.set(`flux/${u.name}.yaml`, u.flux.map((d) => yaml(d)).join("---\n"));
  }
  files.set(
    "flux/source.yaml",
    yaml({ apiVersion: "source.toolkit.fluxcd.io/v1", kind: "GitRepository", metadata: { name: "ambient-lab", namespace: "flux-system" }, spec: { interval: "5m", url: o.repoURL, ref: { branch: o.revision } } }),
  );
  return new Map([...files.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
}
