// Mesh: our ambient mesh on a cluster: the policy CRDs, the control plane, the ztunnel DaemonSet and the
// istio-waypoint GatewayClass; the control plane deploys a waypoint for each istio-waypoint Gateway.
// The objects come from mesh/manifests (pure, schema-tested).
import * as pulumi from "@pulumi/pulumi";
import { meshObjects } from "../../mesh/manifests/index.ts";
import { createObjects } from "../kube-objects.ts";
import { DEFAULT_TRUST_DOMAIN } from "../../mesh/shared/index.ts";

export interface MeshArgs {
  /** Namespace of the control plane and ztunnel. Default "istio-system". */
  namespace?: string;
  /** Trust domain of workload identities. Default "cluster.local". */
  trustDomain?: string;
  /** Log level of the mesh components. Default "info". */
  logLevel?: string;
  /** Image references, pinned (a tag other than latest, or a digest). */
  images: { controlPlane: pulumi.Input<string>; ztunnel: pulumi.Input<string>; waypoint: pulumi.Input<string> };
  /** "Never" for images loaded into kind nodes, "IfNotPresent" for registry images. Default "IfNotPresent". */
  pullPolicy?: "Never" | "IfNotPresent";
  /** Resources the mesh must wait for (for example the Gateway API CRDs, the mesh CA). */
  dependsOn?: pulumi.Resource[];
  /** False when the namespace already exists (MeshCa creates it to issue the CA into it). Default true. */
  createNamespace?: boolean;
}

export class Mesh extends pulumi.ComponentResource {
  public readonly namespace: pulumi.Output<string>;
  public readonly controlPlaneAddress: pulumi.Output<string>;

  constructor(name: string, args: MeshArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ambient-lab:mesh:Mesh", name, {}, opts);
    const namespace = args.namespace ?? "istio-system";
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(namespace)) throw new pulumi.ResourceError(`namespace "${namespace}" is not a DNS label`, this);
    for (const [k, v] of Object.entries(args.images)) {
      if (typeof v === "string" && (!/[:@]/.test(v) || v.endsWith(":latest"))) {
        throw new pulumi.ResourceError(`images.${k} "${v}" must be pinned by tag or digest (not :latest)`, this);
      }
    }
    createObjects(
      name,
      meshObjects({
        namespace,
        trustDomain: args.trustDomain ?? DEFAULT_TRUST_DOMAIN,
        logLevel: args.logLevel ?? "info",
        images: args.images,
        pullPolicy: args.pullPolicy ?? "IfNotPresent",
        includeNamespace: args.createNamespace ?? true,
      }),
      this,
      args.dependsOn ?? [],
    );
    this.namespace = pulumi.output(namespace);
    this.controlPlaneAddress = pulumi.output(`https://istiod.${namespace}.svc:15012`);
    this.registerOutputs({ namespace: this.namespace, controlPlaneAddress: this.controlPlaneAddress });
  }
}
