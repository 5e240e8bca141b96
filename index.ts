// The Pulumi program: read and validate the configuration, create the components, export outputs.
// Composition only; every object comes from a component, every component from pure functions.
import * as pulumi from "@pulumi/pulumi";
import { CertManager, Monitoring } from "./components/addons/index.ts";
import { Benchmark } from "./components/benchmark/index.ts";
import { KindCluster } from "./components/cluster/kind.ts";
import { Mesh } from "./components/mesh/index.ts";
import { MeshImages } from "./components/images/index.ts";
import { readStackConfig } from "./components/read-config.ts";
import { Samples } from "./components/samples/index.ts";

const config = readStackConfig();

if (config.cluster.provider === "eks") {
  // Said plainly rather than half-built: the EKS, image, cert-manager, monitoring, samples and
  // benchmark components are the next steps of this program.
  throw new pulumi.RunError("cluster.provider=eks is not supported by this version of the program yet; use the kind stack (Pulumi.dev.yaml)");
}

const cluster = new KindCluster("kind", { name: config.cluster.kind.name, workers: config.cluster.kind.workers, nodeImage: config.cluster.kind.nodeImage });

const images = new MeshImages("images", { tag: config.mesh.imageTag, kindCluster: cluster.name });

const mesh = new Mesh(
  "mesh",
  {
    trustDomain: config.mesh.trustDomain,
    logLevel: config.mesh.logLevel,
    images: { controlPlane: images.refs["control-plane"], ztunnel: images.refs.ztunnel },
    // Images are loaded into the kind nodes, never pulled.
    pullPolicy: "Never",
  },
  { providers: { kubernetes: cluster.provider } },
);

const providers = { providers: { kubernetes: cluster.provider } };
const certManager = new CertManager("cert-manager", { version: config.versions.certManager }, providers);
const monitoring = config.monitoring ? new Monitoring("monitoring", { version: config.versions.kubePrometheusStack, meshNamespace: mesh.namespace }, providers) : undefined;

const samples = new Samples("samples", { dependsOn: [mesh] }, { providers: { kubernetes: cluster.provider } });

// Sidecar mode needs a sidecar injector, which this mesh does not have; it is skipped with a note.
const modes = config.benchmark.modes.filter((m) => m !== "sidecar");
if (modes.length < config.benchmark.modes.length) pulumi.log.warn("benchmark mode 'sidecar' is skipped: ambient-lab has no sidecar injector yet");
const benchmark =
  modes.length > 0
    ? new Benchmark("bench", { ...config.benchmark, modes, k6Version: config.versions.k6, kubeconfig: cluster.kubeconfig, dependsOn: [samples] }, providers)
    : undefined;

export const clusterProvider = config.cluster.provider;
export const clusterName = cluster.name;
export const kubeconfig = cluster.kubeconfig;
export const meshNamespace = mesh.namespace;
export const controlPlaneAddress = mesh.controlPlaneAddress;
export const sampleNamespaces = samples.namespaces;
export const certManagerNamespace = certManager.namespace;
export const monitoringNamespace = monitoring?.namespace;
/** Per mode: achieved rate, p50/p90/p95/p99 latency (ms), error rate, dropped iterations. */
export const benchmarkResults = benchmark?.results;
