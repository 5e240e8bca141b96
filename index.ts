// The Pulumi program: read and validate the configuration, create the components, export outputs.
// Composition only; every object comes from a component, every component from pure functions.
import * as pulumi from "@pulumi/pulumi";
import { Mesh } from "./components/mesh/index.ts";
import { readStackConfig } from "./components/read-config.ts";

const config = readStackConfig();
const images = {
  controlPlane: `ambient-lab/control-plane:${config.mesh.imageTag}`,
  ztunnel: `ambient-lab/ztunnel:${config.mesh.imageTag}`,
};

// The cluster (kind or EKS), image builds, cert-manager, monitoring, samples and benchmarks are the
// next components; until they exist the mesh goes to the cluster of the ambient kubeconfig.
const mesh = new Mesh("mesh", {
  trustDomain: config.mesh.trustDomain,
  logLevel: config.mesh.logLevel,
  images,
  pullPolicy: config.cluster.provider === "kind" ? "Never" : "IfNotPresent",
});

export const clusterProvider = config.cluster.provider;
export const meshNamespace = mesh.namespace;
export const controlPlaneAddress = mesh.controlPlaneAddress;
export const stack = pulumi.getStack();
