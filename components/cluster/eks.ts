// EksCluster: an EKS cluster in its own VPC (@pulumi/awsx), API authentication mode (access entries),
// a managed node group of t3.medium for workloads plus a one-node group, labelled and tainted, for the
// load generator; ECR repositories for the mesh images; a Kubernetes provider from its kubeconfig.
// @pulumi/eks 4 is paired with @pulumi/aws 7 (their majors move together).
import * as aws from "@pulumi/aws";
import * as awsx from "@pulumi/awsx";
import * as eks from "@pulumi/eks";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { LOADGEN_NODE_LABEL, LOADGEN_TAINT } from "./kind-config.ts";

export interface EksClusterArgs {
  /** Instance type of the workload nodes. Default "t3.medium" (17 pods each). */
  instanceType?: string;
  /** Workload nodes: desired, min, max. Default 3, 3, 5. */
  desiredNodes?: number;
  minNodes?: number;
  maxNodes?: number;
  /** Kubernetes minor version. Default "1.33". */
  kubernetesVersion?: string;
  /** ECR repositories to create (one per image). Default none. */
  repositories?: string[];
  /** The EKS cluster's name, also the ECR repositories' prefix: lowercase. Default "ambient-lab". */
  clusterName?: string;
}

/**
 * ECR's repository name rule: lowercase, 2..256 characters, components of [a-z0-9] separated by one of
 * . _ - and joined by /. Returns the problem, or undefined. (An auto-named EKS cluster is
 * "<name>-eksCluster-0123abcd": its capital C broke the first repository.)
 */
export function ecrRepositoryNameProblem(repo: string): string | undefined {
  if (repo.length < 2 || repo.length > 256) return `ECR repository name "${repo}" must be 2..256 characters`;
  if (!/^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/.test(repo))
    return `ECR repository name "${repo}" must be lowercase letters and digits separated by . _ - and /`;
  return undefined;
}

const NODE_POLICIES = ["AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly"];

export class EksCluster extends pulumi.ComponentResource {
  public readonly name: pulumi.Output<string>;
  public readonly kubeconfig: pulumi.Output<string>;
  public readonly provider: k8s.Provider;
  /** Repository URL prefix for images ("<account>.dkr.ecr.<region>.amazonaws.com/<cluster>"). */
  public readonly registryPrefix: pulumi.Output<string>;
  public readonly registryAuth: pulumi.Output<{ address: string; username: string; password: string }>;

  constructor(name: string, args: EksClusterArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    super("ambient-lab:cluster:EksCluster", name, {}, opts);
    const desired = args.desiredNodes ?? 3;
    const min = args.minNodes ?? 3;
    const max = args.maxNodes ?? 5;
    if (!(min <= desired && desired <= max))
      throw new pulumi.ResourceError(`node counts must satisfy minNodes (${min}) <= desiredNodes (${desired}) <= maxNodes (${max})`, this);
    const tags = { "ambient-lab/cluster": name };
    const clusterName = args.clusterName ?? "ambient-lab";
    // EKS allows up to 100 of [A-Za-z0-9_-]; it also prefixes the ECR repositories, which need lowercase.
    if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(clusterName))
      throw new pulumi.ResourceError(
        `clusterName "${clusterName}" must be lowercase letters, digits and -, at most 63 (it names the ECR repositories too)`,
        this,
      );
    for (const repo of args.repositories ?? []) {
      const problem = ecrRepositoryNameProblem(`${clusterName}/${repo}`);
      if (problem) throw new pulumi.ResourceError(problem, this);
    }

    const vpc = new awsx.ec2.Vpc(
      `${name}-vpc`,
      { numberOfAvailabilityZones: 2, natGateways: { strategy: awsx.ec2.NatGatewayStrategy.Single }, tags },
      { parent: this },
    );
    const cluster = new eks.Cluster(
      name,
      {
        // Named, not auto-named ("<name>-eksCluster-0123abcd"): the name is an ECR prefix and must be lowercase.
        name: clusterName,
        vpcId: vpc.vpcId,
        publicSubnetIds: vpc.publicSubnetIds,
        privateSubnetIds: vpc.privateSubnetIds,
        authenticationMode: eks.AuthenticationMode.Api,
        version: args.kubernetesVersion ?? "1.33",
        skipDefaultNodeGroup: true,
        nodeAssociatePublicIpAddress: false,
        tags,
      },
      { parent: this },
    );
    // skipDefaultNodeGroup also skips the default instance role: the node groups get this one.
    const role = new aws.iam.Role(
      `${name}-nodes`,
      { assumeRolePolicy: aws.iam.assumeRolePolicyForPrincipal({ Service: "ec2.amazonaws.com" }), tags },
      { parent: this },
    );
    NODE_POLICIES.forEach(
      (p, i) => new aws.iam.RolePolicyAttachment(`${name}-nodes-${i}`, { role: role.name, policyArn: `arn:aws:iam::aws:policy/${p}` }, { parent: this }),
    );
    new eks.ManagedNodeGroup(
      `${name}-workers`,
      {
        cluster,
        nodeRole: role,
        instanceTypes: [args.instanceType ?? "t3.medium"],
        scalingConfig: { desiredSize: desired, minSize: min, maxSize: max },
        subnetIds: vpc.privateSubnetIds,
        labels: { [LOADGEN_NODE_LABEL]: "workload" },
      },
      { parent: this },
    );
    new eks.ManagedNodeGroup(
      `${name}-loadgen`,
      {
        cluster,
        nodeRole: role,
        instanceTypes: [args.instanceType ?? "t3.medium"],
        scalingConfig: { desiredSize: 1, minSize: 1, maxSize: 1 },
        subnetIds: vpc.privateSubnetIds,
        labels: { [LOADGEN_NODE_LABEL]: "loadgen" },
        taints: [{ key: LOADGEN_TAINT.key, value: LOADGEN_TAINT.value, effect: "NO_SCHEDULE" }],
      },
      { parent: this },
    );
    for (const repo of args.repositories ?? []) {
      // MUTABLE: images are deployed by digest, and a rebuild pushes the same tag again (IMMUTABLE refuses it).
      new aws.ecr.Repository(`${name}-${repo}`, { name: `${clusterName}/${repo}`, imageTagMutability: "MUTABLE", forceDelete: true, tags }, { parent: this });
    }
    const identity = aws.getCallerIdentityOutput({}, { parent: this });
    const region = aws.getRegionOutput({}, { parent: this });
    this.name = cluster.eksCluster.name;
    this.registryPrefix = pulumi.interpolate`${identity.accountId}.dkr.ecr.${region.region}.amazonaws.com/${clusterName}`;
    const token = aws.ecr.getAuthorizationTokenOutput({}, { parent: this });
    this.registryAuth = pulumi.secret(
      pulumi.all([token.proxyEndpoint, token.userName, token.password]).apply(([address, username, password]) => ({ address, username, password })),
    );
    this.kubeconfig = pulumi.secret(cluster.kubeconfigJson);
    this.provider = new k8s.Provider(`${name}-provider`, { kubeconfig: this.kubeconfig }, { parent: this });
    this.registerOutputs({ name: this.name, kubeconfig: this.kubeconfig, registryPrefix: this.registryPrefix });
  }
}
