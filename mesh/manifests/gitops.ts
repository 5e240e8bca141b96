// Pure: the mesh install as a GitOps tree (the rendered-manifests pattern). One folder per app with a
// kustomization.yaml; CRDs in their own app, an earlier ArgoCD sync wave than what uses them; ArgoCD
// Applications and Flux Kustomizations chained with dependsOn. No secret material is ever rendered.
import { stringify } from "yaml";
import { meshObjects, policyCrds, type KubeObject, type MeshManifestOptions } from "./mesh.ts";
import { sampleObjects } from "./samples.ts";

export interface GitOpsOptions {
  mesh: MeshManifestOptions;
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
    { name: "mesh-crds", wave: -1, dependsOn: [], objects: crds },
    { name: "mesh", wave: 0, dependsOn: ["mesh-crds"], objects: rest },
    { name: "samples", wave: 1, dependsOn: ["mesh"], objects: sampleObjects() },
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
      ...(app.dependsOn.length ? { dependsOn: app.dependsOn.map((d) => ({ name: `ambient-lab-${d}` })) } : {}),
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
  files.set(
    "flux/source.yaml",
    yaml({ apiVersion: "source.toolkit.fluxcd.io/v1", kind: "GitRepository", metadata: { name: "ambient-lab", namespace: "flux-system" }, spec: { interval: "5m", url: o.repoURL, ref: { branch: o.revision } } }),
  );
  return new Map([...files.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
}
