// Pure: the mesh install as a GitOps tree (the rendered-manifests pattern). One folder per app with a
// kustomization.yaml; CRDs in their own app, an earlier ArgoCD sync wave than what uses them; ArgoCD
// Applications and Flux Kustomizations chained with dependsOn. No secret material is ever rendered.
import { stringify } from "yaml";
import { benchmarkJob, MODE_NAMESPACES, scriptConfigMap, type BenchMode, type BenchSettings } from "./benchmark.ts";
import { meshCaObjects } from "./mesh-ca.ts";
import { meshNamespaceObject, meshObjects, policyCrds, type KubeObject, type MeshManifestOptions } from "./mesh.ts";
import { kubePrometheusStackValues, meshMonitoringObjects, METRICS_SERVER_REPO, metricsServerValues, MONITORING_NAMESPACE } from "./monitoring.ts";
import { ISTIO_CHART_REPO, istioCharts } from "./istio.ts";
import { sampleObjects } from "./samples.ts";
import { sidecarOptionsFor } from "./sidecar.ts";

export interface GitOpsOptions {
  /** Our mesh's options; `images` is needed for ours only. */
  mesh: Omit<MeshManifestOptions, "images"> & { images?: MeshManifestOptions["images"] };
  /** "istio": upstream Istio's charts instead of our mesh (issue 16). Default "ambient-lab". */
  meshKind?: "ambient-lab" | "istio";
  /** Pinned versions of what is installed from upstream rather than from this tree. */
  versions: { gatewayApi: string; certManager: string; kubePrometheusStack: string; metricsServer: string };
  /** Where the tree lives in Git: ArgoCD and Flux point at <repoURL>@<revision>:<path>/<app>. */
  repoURL: string;
  revision: string;
  path: string;
  /** The k6 Jobs, rendered into their own folder and run by hand (`kubectl apply -k`): a benchmark is an event, not desired state. */
  benchmark: { modes: BenchMode[]; settings: BenchSettings; script: string };
}

interface App {
  name: string;
  /** ArgoCD sync wave: CRDs before controllers before resources that use them. */
  wave: number;
  dependsOn: string[];
  objects: KubeObject[];
  /** False for folders applied by hand (the benchmark): no ArgoCD Application or Flux Kustomization. */
  synced?: boolean;
}

function fileName(o: KubeObject): string {
  return `${o.kind.toLowerCase()}-${o.metadata.namespace ? `${o.metadata.namespace}-` : ""}${o.metadata.name}.yaml`.replace(/[^a-z0-9.-]/g, "-");
}

function apps(o: GitOpsOptions): App[] {
  const bench = o.benchmark;
  const meshCa: App = {
    name: "mesh-ca",
    wave: -1,
    dependsOn: ["cert-manager"],
    objects: [meshNamespaceObject(o.mesh.namespace), ...meshCaObjects({ namespace: o.mesh.namespace, trustDomain: o.mesh.trustDomain })],
  };
  if (o.meshKind === "istio") {
    // Istio's charts are upstream installs (below); ours are the CA, the samples and the benchmark. The
    // samples wait for ztunnel, the last of Istio's charts: their pods must be enrolled or injected at start.
    return [
      meshCa,
      {
        name: "monitoring",
        wave: 3,
        dependsOn: ["kube-prometheus-stack", "ztunnel"],
        objects: meshMonitoringObjects({ meshNamespace: o.mesh.namespace, mesh: "istio" }),
      },
      { name: "samples", wave: 3, dependsOn: ["ztunnel"], objects: sampleObjects(undefined, undefined, undefined, { injector: "istio" }) },
      {
        name: "benchmark",
        wave: 4,
        dependsOn: ["samples"],
        synced: false,
        objects: bench.modes.flatMap((m) => [scriptConfigMap(MODE_NAMESPACES[m], bench.script), benchmarkJob(m, bench.settings)]),
      },
    ];
  }
  const images = o.mesh.images;
  if (!images) throw new Error("our mesh's tree needs its images (--registry)");
  const ours = { ...o.mesh, images };
  const crds = policyCrds();
  const crdNames = new Set(crds.map((c) => c.metadata.name));
  // The mesh namespace comes with the CA, which cert-manager issues into it before the control plane starts.
  const rest = meshObjects({ ...ours, includeNamespace: false }).filter((x) => !(x.kind === "CustomResourceDefinition" && crdNames.has(x.metadata.name)));
  // sidecar-demo's pods and its k6 Job get our proxy injected here, as `istioctl kube-inject` would.
  const sidecar = sidecarOptionsFor({
    namespace: ours.namespace,
    trustDomain: ours.trustDomain,
    image: images.ztunnel,
    pullPolicy: ours.pullPolicy,
  });
  return [
    { name: "mesh-crds", wave: -1, dependsOn: ["gateway-api-crds"], objects: crds },
    meshCa,
    { name: "mesh", wave: 0, dependsOn: ["mesh-crds", "mesh-ca"], objects: rest },
    { name: "monitoring", wave: 1, dependsOn: ["kube-prometheus-stack", "mesh"], objects: meshMonitoringObjects({ meshNamespace: o.mesh.namespace }) },
    { name: "samples", wave: 1, dependsOn: ["mesh"], objects: sampleObjects(undefined, undefined, sidecar) },
    {
      name: "benchmark",
      wave: 2,
      dependsOn: ["samples"],
      synced: false,
      objects: bench.modes.flatMap((m) => [scriptConfigMap(MODE_NAMESPACES[m], bench.script), benchmarkJob(m, bench.settings, sidecar)]),
    },
  ];
}

/** Upstream installs: Gateway API CRDs from their Git release, cert-manager and kube-prometheus-stack from Helm. */
interface Upstream {
  name: string;
  wave: number;
  namespace: string;
  argoSource: Record<string, unknown>;
  /** Flux objects in flux/<name>.yaml. */
  flux: KubeObject[];
  /** Flux objects in their own folder (flux/releases/<name>), applied by a Kustomization that waits for them. */
  fluxRelease?: KubeObject[];
  /** Whether ArgoCD may prune what this app created (false for CRDs, as Flux does). Default true. */
  prune?: boolean;
  /** Apps and upstreams whose Flux Kustomizations this one's waits for (ArgoCD: an earlier wave). */
  dependsOn?: string[];
}

const FLUX_NS = "flux-system";
const kustomizationName = (app: string) => `ambient-lab-${app}`;

function upstreams(o: GitOpsOptions): Upstream[] {
  const helm = (
    name: string,
    repo: string,
    chart: string,
    version: string,
    namespace: string,
    wave: number,
    values: Record<string, unknown>,
    more: Pick<Upstream, "dependsOn" | "prune"> & { releaseName?: string } = {},
  ): Upstream => ({
    name,
    wave,
    namespace,
    ...(more.dependsOn ? { dependsOn: more.dependsOn } : {}),
    ...(more.prune !== undefined ? { prune: more.prune } : {}),
    argoSource: {
      repoURL: repo,
      chart,
      targetRevision: version,
      helm: { ...(more.releaseName ? { releaseName: more.releaseName } : {}), valuesObject: values },
    },
    flux: [],
    // Flux's dependsOn only names Kustomizations: the HelmRelease is wrapped in one that waits for it to be Ready.
    fluxRelease: [
      { apiVersion: "source.toolkit.fluxcd.io/v1", kind: "HelmRepository", metadata: { name, namespace: FLUX_NS }, spec: { interval: "1h", url: repo } },
      {
        apiVersion: "helm.toolkit.fluxcd.io/v2",
        kind: "HelmRelease",
        metadata: { name, namespace: FLUX_NS },
        spec: {
          interval: "10m",
          targetNamespace: namespace,
          ...(more.releaseName ? { releaseName: more.releaseName } : {}),
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
      // Never pruned, by ArgoCD or Flux alike: deleting a CRD deletes every Gateway and HTTPRoute with it.
      prune: false,
      namespace: "default",
      argoSource: { repoURL: "https://github.com/kubernetes-sigs/gateway-api.git", targetRevision: o.versions.gatewayApi, path: "config/crd/standard" },
      flux: [
        {
          apiVersion: "source.toolkit.fluxcd.io/v1",
          kind: "GitRepository",
          metadata: { name: "gateway-api", namespace: FLUX_NS },
          spec: { interval: "1h", url: "https://github.com/kubernetes-sigs/gateway-api.git", ref: { tag: o.versions.gatewayApi } },
        },
        {
          apiVersion: "kustomize.toolkit.fluxcd.io/v1",
          kind: "Kustomization",
          metadata: { name: kustomizationName("gateway-api-crds"), namespace: FLUX_NS },
          spec: { interval: "1h", path: "./config/crd/standard", prune: false, wait: true, sourceRef: { kind: "GitRepository", name: "gateway-api" } },
        },
      ],
    },
    helm("cert-manager", "https://charts.jetstack.io", "cert-manager", o.versions.certManager, "cert-manager", -2, { crds: { enabled: true } }),
    // For `kubectl top`. On kind, add --kubelet-insecure-tls to its args (its kubelets' certificates are self-signed).
    helm("metrics-server", METRICS_SERVER_REPO, "metrics-server", o.versions.metricsServer, "kube-system", -2, metricsServerValues(false)),
    // Istio instead of our mesh: its charts in the order its Helm documentation gives, each waiting for
    // the one before (and istiod for the mesh CA it reads as its plug-in CA). Istio's base holds its
    // CRDs: never pruned.
    ...(o.meshKind === "istio"
      ? istioCharts({ namespace: o.mesh.namespace, trustDomain: o.mesh.trustDomain }).map((c, i) =>
          helm(c.release, ISTIO_CHART_REPO, c.chart, c.version, c.namespace, i - 1, c.values, {
            // Istio's documented release names (Flux would otherwise name them <namespace>-<name>).
            releaseName: c.release,
            dependsOn: [...c.after, ...(c.chart === "base" ? ["gateway-api-crds"] : c.chart === "istiod" ? ["mesh-ca"] : [])],
            ...(c.chart === "base" ? { prune: false } : {}),
          }),
        )
      : []),
    helm(
      "kube-prometheus-stack",
      "https://prometheus-community.github.io/helm-charts",
      "kube-prometheus-stack",
      o.versions.kubePrometheusStack,
      MONITORING_NAMESPACE,
      0,
      kubePrometheusStackValues(),
    ),
  ];
}

/**
 * Waves order Applications only while ArgoCD has a health check for Application (removed in 1.8), so an
 * app may sync before the CRDs it needs exist: `retry` makes it try again until they do, instead of
 * failing once and staying failed.
 */
const ARGO_RETRY = { limit: 10, backoff: { duration: "10s", factor: 2, maxDuration: "5m" } };

function argoApplication(
  name: string,
  wave: number,
  source: Record<string, unknown>,
  namespace: string,
  extraSyncOptions: string[] = [],
  prune = true,
): KubeObject {
  return {
    apiVersion: "argoproj.io/v1alpha1",
    kind: "Application",
    metadata: { name: `ambient-lab-${name}`, namespace: "argocd", annotations: { "argocd.argoproj.io/sync-wave": String(wave) } },
    spec: {
      project: "default",
      source,
      // Objects carry their own namespaces; this is only the default for any that do not.
      destination: { server: "https://kubernetes.default.svc", namespace },
      syncPolicy: {
        automated: { prune, selfHeal: true },
        syncOptions: ["CreateNamespace=true", "ServerSideApply=true", ...extraSyncOptions],
        retry: ARGO_RETRY,
      },
    },
  };
}

function fluxKustomization(name: string, path: string, dependsOn: string[]): KubeObject {
  return {
    apiVersion: "kustomize.toolkit.fluxcd.io/v1",
    kind: "Kustomization",
    metadata: { name: kustomizationName(name), namespace: FLUX_NS },
    spec: {
      interval: "10m",
      path,
      prune: true,
      wait: true,
      timeout: "5m",
      sourceRef: { kind: "GitRepository", name: "ambient-lab" },
      ...(dependsOn.length ? { dependsOn: dependsOn.map((d) => ({ name: kustomizationName(d) })) } : {}),
    },
  };
}

const yaml = (v: unknown) => stringify(v, { lineWidth: 0 });

/** A folder of objects, one file each, and the kustomization.yaml that lists them. */
function writeFolder(files: Map<string, string>, folder: string, objects: KubeObject[], annotate: (o: KubeObject) => KubeObject = (x) => x): void {
  const names: string[] = [];
  for (const obj of objects) {
    if (obj.kind === "Secret") throw new Error(`refusing to render Secret ${obj.metadata.name}: secrets stay out of Git`);
    const name = fileName(obj);
    names.push(name);
    files.set(`${folder}/${name}`, yaml(annotate(obj)));
  }
  files.set(`${folder}/kustomization.yaml`, yaml({ apiVersion: "kustomize.config.k8s.io/v1beta1", kind: "Kustomization", resources: names }));
}

/** path -> file content, sorted by path. */
export function renderGitOpsTree(o: GitOpsOptions): Map<string, string> {
  const files = new Map<string, string>();
  for (const app of apps(o)) {
    writeFolder(files, app.name, app.objects, (obj) => ({
      ...obj,
      metadata: { ...obj.metadata, annotations: { ...obj.metadata.annotations, "argocd.argoproj.io/sync-wave": String(app.wave) } },
    }));
    if (app.synced === false) continue;
    // Our apps hold custom resources whose CRDs another app installs in the same first sync.
    files.set(
      `argocd/${app.name}.yaml`,
      yaml(
        argoApplication(app.name, app.wave, { repoURL: o.repoURL, targetRevision: o.revision, path: `${o.path}/${app.name}` }, o.mesh.namespace, [
          "SkipDryRunOnMissingResource=true",
        ]),
      ),
    );
    files.set(`flux/${app.name}.yaml`, yaml(fluxKustomization(app.name, `./${o.path}/${app.name}`, app.dependsOn)));
  }
  for (const u of upstreams(o)) {
    files.set(`argocd/${u.name}.yaml`, yaml(argoApplication(u.name, u.wave, u.argoSource, u.namespace, [], u.prune ?? true)));
    const docs = [...u.flux];
    if (u.fluxRelease) {
      writeFolder(files, `flux/releases/${u.name}`, u.fluxRelease);
      docs.push(fluxKustomization(u.name, `./${o.path}/flux/releases/${u.name}`, u.dependsOn ?? []));
    }
    files.set(`flux/${u.name}.yaml`, docs.map((d) => yaml(d)).join("---\n"));
  }
  // Flux pointed at flux/ (a bootstrap path) would otherwise build every YAML below it, releases/ too,
  // and apply each HelmRelease twice: directly and through its Kustomization. This lists the top level only.
  const fluxTop = [...files.keys(), "flux/source.yaml"].filter((p) => /^flux\/[^/]+\.yaml$/.test(p)).map((p) => p.slice("flux/".length));
  files.set("flux/kustomization.yaml", yaml({ apiVersion: "kustomize.config.k8s.io/v1beta1", kind: "Kustomization", resources: [...new Set(fluxTop)].sort() }));
  files.set(
    "flux/source.yaml",
    yaml({
      apiVersion: "source.toolkit.fluxcd.io/v1",
      kind: "GitRepository",
      metadata: { name: "ambient-lab", namespace: FLUX_NS },
      spec: { interval: "5m", url: o.repoURL, ref: { branch: o.revision } },
    }),
  );
  // App of apps: one Application that syncs every Application in argocd/, wave by wave.
  files.set("root-app.yaml", yaml(argoApplication("root", 0, { repoURL: o.repoURL, targetRevision: o.revision, path: `${o.path}/argocd` }, "argocd")));
  return new Map([...files.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
}
