// KindCluster: a local kind cluster created with the kind CLI through @pulumi/command, its kubeconfig as
// a secret output, and a Kubernetes provider for everything that goes onto it. Deleting succeeds when the
// cluster is already gone (kind delete is idempotent).
import * as command from "@pulumi/command";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { renderKindConfig } from "./kind-config.ts";

export interface KindClusterArgs {
  /** Cluster name. Default "ambient-lab". */
  name?: string;
  /** Worker nodes for workloads (a load-generator node is added). Default 2. */
  workers?: number;
  /** Pinned kindest/node image. Default "kindest/node:v1.33.1". */
  nodeImage?: string;
}

export class KindCluster extends pulumi.ComponentResource {
  public readonly name: pulumi.Output<string>;
  public readonly kubeconfig: pulumi.Output<string>;
  public readonly provider: k8s.Provider;

  constructor(name: string, args: KindClusterArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    super("ambient-lab:cluster:KindCluster", name, {}, opts);
    const clusterName = args.name ?? "ambient-lab";
    const workers = args.workers ?? 2;
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(clusterName)) throw new pulumi.ResourceError(`name "${clusterName}" must be a DNS label`, this);
    if (!Number.isInteger(workers) || workers < 1 || workers > 10) throw new pulumi.ResourceError(`workers must be 1..10, got ${workers}`, this);
    const nodeImage = args.nodeImage ?? "kindest/node:v1.33.1";
    if (nodeImage.endsWith(":latest") || !nodeImage.includes(":")) throw new pulumi.ResourceError(`nodeImage "${nodeImage}" must be pinned`, this);

    const cluster = new command.local.Command(
      `${name}-create`,
      {
        create: `kind create cluster --name ${clusterName} --config - --wait 120s`,
        delete: `kind delete cluster --name ${clusterName}`,
        stdin: renderKindConfig({ workers, nodeImage }),
        triggers: [clusterName, workers, nodeImage],
      },
      { parent: this },
    );
    const kubeconfig = new command.local.Command(
      `${name}-kubeconfig`,
      { create: `kind get kubeconfig --name ${clusterName}`, triggers: [cluster.id] },
      { parent: this, dependsOn: [cluster], additionalSecretOutputs: ["stdout"] },
    );
    // Derived from the create command, so everything that uses the name (kind load docker-image) runs
    // after the cluster exists: a plain string would let a cached build's load race "no nodes found".
    this.name = cluster.id.apply(() => clusterName);
    this.kubeconfig = pulumi.secret(kubeconfig.stdout);
    // deleteUnreachable: when the kind cluster is already gone (deleted by hand, Docker restarted), its
    // objects are gone with it; destroy drops them from the state instead of failing on every one and
    // leaving the stack wedged.
    this.provider = new k8s.Provider(`${name}-provider`, { kubeconfig: this.kubeconfig, deleteUnreachable: true }, { parent: this });
    this.registerOutputs({ name: this.name, kubeconfig: this.kubeconfig });
  }
}
