// Creates a typed Pulumi Kubernetes resource for a plain object from the pure manifest functions, so
// the components and the GitOps renderer deploy the same objects. Cluster-wide prerequisites (CRDs,
// Namespaces) are created first and everything else depends on them.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { KubeObject } from "../mesh/manifests/index.ts";

type Ctor = new (name: string, args: never, opts?: pulumi.CustomResourceOptions) => pulumi.CustomResource;

const TYPES: Record<string, Ctor> = {
  "v1/Namespace": k8s.core.v1.Namespace,
  "v1/ServiceAccount": k8s.core.v1.ServiceAccount,
  "v1/Service": k8s.core.v1.Service,
  "v1/ConfigMap": k8s.core.v1.ConfigMap,
  "apps/v1/Deployment": k8s.apps.v1.Deployment,
  "apps/v1/DaemonSet": k8s.apps.v1.DaemonSet,
  "batch/v1/Job": k8s.batch.v1.Job,
  "rbac.authorization.k8s.io/v1/ClusterRole": k8s.rbac.v1.ClusterRole,
  "rbac.authorization.k8s.io/v1/ClusterRoleBinding": k8s.rbac.v1.ClusterRoleBinding,
  "rbac.authorization.k8s.io/v1/Role": k8s.rbac.v1.Role,
  "rbac.authorization.k8s.io/v1/RoleBinding": k8s.rbac.v1.RoleBinding,
  "apiextensions.k8s.io/v1/CustomResourceDefinition": k8s.apiextensions.v1.CustomResourceDefinition,
};

/**
 * What Pulumi must wait for before it counts an object as created, beyond its built-in await logic
 * (which knows Deployments and Jobs but not custom resources): the mesh CA Certificate being Ready
 * (without it the control plane starts with a root of its own, which changes on every restart), an
 * issuer being Ready, and a waypoint Gateway being Programmed (before the waypoint benchmark runs).
 * pulumi-kubernetes reads `pulumi.com/waitFor` (4.18+); ArgoCD and Flux ignore it.
 */
export function awaitAnnotation(o: KubeObject): string | undefined {
  if (o.apiVersion.startsWith("cert-manager.io/") && ["Certificate", "Issuer", "ClusterIssuer"].includes(o.kind)) return "condition=Ready";
  if (o.apiVersion.startsWith("gateway.networking.k8s.io/") && o.kind === "Gateway") return "condition=Programmed";
  return undefined;
}

function withAwait(o: KubeObject): KubeObject {
  const wait = awaitAnnotation(o);
  return wait ? { ...o, metadata: { ...o.metadata, annotations: { ...o.metadata.annotations, "pulumi.com/waitFor": wait } } } : o;
}

function resourceName(prefix: string, o: KubeObject): string {
  return `${prefix}-${o.kind.toLowerCase()}-${o.metadata.namespace ? `${o.metadata.namespace}-` : ""}${o.metadata.name}`;
}

/** Creates every object as a child of `parent`; returns them by "Kind/namespace/name". */
export function createObjects(
  prefix: string,
  objects: KubeObject[],
  parent: pulumi.Resource,
  extraDependsOn: pulumi.Resource[] = [],
): Map<string, pulumi.CustomResource> {
  const out = new Map<string, pulumi.CustomResource>();
  const isFoundation = (o: KubeObject) => o.kind === "CustomResourceDefinition" || o.kind === "Namespace";
  const foundation: pulumi.Resource[] = [];
  for (const o of [...objects.filter(isFoundation), ...objects.filter((x) => !isFoundation(x))].map(withAwait)) {
    const key = `${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`;
    const ctor = TYPES[`${o.apiVersion}/${o.kind}`];
    const opts: pulumi.CustomResourceOptions = { parent, dependsOn: isFoundation(o) ? extraDependsOn : [...foundation, ...extraDependsOn] };
    // Resources of kinds without a typed class (Gateway API, Istio) go through the generic CustomResource.
    const res = ctor
      ? new ctor(resourceName(prefix, o), o as never, opts)
      : new k8s.apiextensions.CustomResource(resourceName(prefix, o), o as unknown as k8s.apiextensions.CustomResourceArgs, opts);
    if (isFoundation(o)) foundation.push(res);
    out.set(key, res);
  }
  return out;
}
