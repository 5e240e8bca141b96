// The Pulumi program: read and validate the configuration, create the components, export outputs.
// Composition only; every object comes from a component, every component from pure functions.
import * as aws from "@pulumi/aws";
import { fileURLToPath } from "node:url";
import { GatewayApiCrds } from "./components/addons/gateway-api.ts";
import { CertManager, MeshCa, MetricsServer, Monitoring } from "./components/addons/index.ts";
import { Benchmark } from "./components/benchmark/index.ts";
import { EksCluster } from "./components/cluster/eks.ts";
import { KindCluster } from "./components/cluster/kind.ts";
import { contentHash, hostPlatform } from "./components/images/content-tag.ts";
import { IMAGE_TARGETS, MeshImages } from "./components/images/index.ts";
import { Mesh } from "./components/mesh/index.ts";
import { IstioMesh } from "./components/mesh/istio.ts";
import { readStackConfig } from "./components/read-config.ts";
import { Samples } from "./components/samples/index.ts";
import { sidecarOptionsFor } from "./mesh/manifests/index.ts";

const config = readStackConfig();
const MESH_NAMESPACE = "istio-system";

const ROOT = fileURLToPath(new URL(".", import.meta.url));
// `ambient-lab:mesh` istio: upstream Istio's charts instead of our mesh, so nothing of ours is built.
const ours = config.mesh.kind === "ambient-lab";
let cluster: KindCluster | EksCluster;
let images: MeshImages | undefined;
if (config.cluster.provider === "kind") {
  const kind = new KindCluster("kind", { name: config.cluster.kind.name, workers: config.cluster.kind.workers, nodeImage: config.cluster.kind.nodeImage });
  if (ours)
    images = new MeshImages("images", { tag: config.mesh.imageTag, kindCluster: kind.name, contentHash: contentHash(ROOT), hostPlatform: hostPlatform() });
  cluster = kind;
} else {
  const e = config.cluster.eks;
  const awsProvider = new aws.Provider("aws", { region: e.region as aws.Region });
  const eks = new EksCluster(
    "eks",
    {
      clusterName: e.name,
      instanceType: e.instanceType,
      desiredNodes: e.desiredNodes,
      minNodes: e.minNodes,
      maxNodes: e.maxNodes,
      kubernetesVersion: e.kubernetesVersion,
      repositories: [...IMAGE_TARGETS],
    },
    { providers: { aws: awsProvider } },
  );
  if (ours) {
    images = new MeshImages(
      "images",
      { tag: config.mesh.imageTag, registry: { repositoryPrefix: eks.registryPrefix, auth: eks.registryAuth } },
      { dependsOn: [eks] },
    );
  }
  cluster = eks;
}
const providers = { providers: { kubernetes: cluster.provider } };

const gatewayApi = new GatewayApiCrds("gateway-api", { version: config.versions.gatewayApi }, providers);
const certManager = new CertManager("cert-manager", { version: config.versions.certManager }, providers);
new MetricsServer("metrics-server", { version: config.versions.metricsServer, insecureKubeletTls: config.cluster.provider === "kind" }, providers);
// cert-manager issues the mesh's root CA into istio-system/cacerts before the control plane starts.
const meshCa = new MeshCa("mesh-ca", { namespace: MESH_NAMESPACE, trustDomain: config.mesh.trustDomain, certManager }, providers);

const pullPolicy = config.cluster.provider === "kind" ? "Never" : "IfNotPresent";
const mesh =
  ours && images
    ? new Mesh(
        "mesh",
        {
          namespace: MESH_NAMESPACE,
          trustDomain: config.mesh.trustDomain,
          logLevel: config.mesh.logLevel,
          images: { controlPlane: images.refs["control-plane"], ztunnel: images.refs.ztunnel, waypoint: images.refs.waypoint },
          // kind: images are loaded into the nodes, never pulled. EKS: pulled from ECR by digest.
          pullPolicy,
          dependsOn: [gatewayApi, meshCa],
          createNamespace: false,
        },
        providers,
      )
    : new IstioMesh("istio", { namespace: MESH_NAMESPACE, trustDomain: config.mesh.trustDomain, dependsOn: [gatewayApi, meshCa] }, providers);

// Sidecar mode: our proxy (the ztunnel image) injected into sidecar-demo's pods and its k6 Job; with
// Istio, its own injection webhook (the namespace's istio-injection label).
const sidecar = images
  ? sidecarOptionsFor({ namespace: MESH_NAMESPACE, trustDomain: config.mesh.trustDomain, image: images.refs.ztunnel, pullPolicy })
  : undefined;
const monitoring = config.monitoring
  ? new Monitoring("monitoring", { version: config.versions.kubePrometheusStack, meshNamespace: MESH_NAMESPACE, mesh: config.mesh.kind }, providers)
  : undefined;
const samples = new Samples("samples", { dependsOn: [mesh], ...(sidecar ? { sidecar } : {}), injector: config.mesh.kind }, providers);

const modes = config.benchmark.modes;
const benchmark =
  modes.length > 0
    ? new Benchmark(
        "bench",
        {
          ...config.benchmark,
          modes,
          ...(sidecar ? { sidecar } : {}),
          mesh: config.mesh.kind,
          k6Version: config.versions.k6,
          kubeconfig: cluster.kubeconfig,
          dependsOn: [samples, ...(monitoring ? [monitoring] : [])],
          ...(monitoring ? { proxyUsage: { prometheusNamespace: monitoring.namespace, prometheusService: monitoring.prometheusService } } : {}),
        },
        providers,
      )
    : undefined;

export const clusterProvider = config.cluster.provider;
export const clusterName = cluster.name;
export const kubeconfig = cluster.kubeconfig;
export const meshKind = config.mesh.kind;
export const meshImages = images?.refs;
export const meshNamespace = mesh.namespace;
export const controlPlaneAddress = mesh.controlPlaneAddress;
export const sampleNamespaces = samples.namespaces;
export const certManagerNamespace = certManager.namespace;
export const monitoringNamespace = monitoring?.namespace;
/** Per mode: achieved rate, p50/p90/p95/p99 latency (ms), error rate, dropped iterations, ztunnel CPU and memory. */
export const benchmarkResults = benchmark?.results;
