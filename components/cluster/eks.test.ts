// EksCluster under mocks. eks.Cluster, eks.ManagedNodeGroup and awsx.ec2.Vpc are remote components:
// under mocks they have no children, so the mock returns the outputs the component reads.
import type * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { EKS_CALLS, installMocks, settle } from "../testing/mocks.ts";

const registered = installMocks({
  stack: "eks",
  outputs: (type, name, inputs) =>
    (
      ({
        "awsx:ec2:Vpc": { vpcId: "vpc-1", publicSubnetIds: ["subnet-pub-a", "subnet-pub-b"], privateSubnetIds: ["subnet-priv-a", "subnet-priv-b"] },
        // What the provider really names the cluster: its `name` input, else "<resource>-eksCluster-<8 hex>"
        // (autonaming, as @pulumi/eks documents it). A mock must not invent a tidier name.
        "eks:index:Cluster": { kubeconfigJson: '{"apiVersion":"v1","kind":"Config"}', eksCluster: { name: inputs.name ?? `${name}-eksCluster-0123abcd` } },
      }) as Record<string, Record<string, unknown>>
    )[type],
  calls: EKS_CALLS,
});

let mod: typeof import("./eks.ts");
beforeAll(async () => {
  mod = await import("./eks.ts");
});

const value = <T>(o: pulumi.Output<T>) => new Promise<T>((r) => o.apply((v) => r(v)));

describe("EksCluster", () => {
  it("builds a VPC, an API-auth cluster, t3.medium workers and a tainted load-generator group, and ECR repositories", async () => {
    const c = new mod.EksCluster("eks", { repositories: ["control-plane", "ztunnel"] });
    expect(await value(c.registryPrefix)).toBe("123456789012.dkr.ecr.us-east-1.amazonaws.com/ambient-lab");
    expect(await value(c.name)).toBe("ambient-lab");
    expect(await (c.kubeconfig as unknown as { isSecret: Promise<boolean> }).isSecret).toBe(true);
    await settle();
    const cluster = registered.find((r) => r.type === "eks:index:Cluster")!;
    expect(cluster.inputs).toMatchObject({
      authenticationMode: "API",
      skipDefaultNodeGroup: true,
      vpcId: "vpc-1",
      privateSubnetIds: ["subnet-priv-a", "subnet-priv-b"],
    });
    const groups = registered.filter((r) => r.type === "eks:index:ManagedNodeGroup");
    expect(groups.map((g) => [g.name, g.inputs.instanceTypes, g.inputs.scalingConfig])).toEqual([
      ["eks-workers", ["t3.medium"], { desiredSize: 3, minSize: 3, maxSize: 5 }],
      ["eks-loadgen", ["t3.medium"], { desiredSize: 1, minSize: 1, maxSize: 1 }],
    ]);
    expect(groups[1]!.inputs.taints).toEqual([{ key: "ambient-lab.io/loadgen", value: "true", effect: "NO_SCHEDULE" }]);
    const repos = registered.filter((r) => r.type === "aws:ecr/repository:Repository");
    expect(repos.map((r) => r.inputs.name)).toEqual(["ambient-lab/control-plane", "ambient-lab/ztunnel"]);
    // ECR's naming rule on the names the provider will really create (issue 10, problem 4), and tags a rebuild can push again.
    for (const r of repos) expect(mod.ecrRepositoryNameProblem(String(r.inputs.name))).toBeUndefined();
    expect(repos.every((r) => r.inputs.imageTagMutability === "MUTABLE")).toBe(true);
    expect(registered.filter((r) => r.type === "aws:iam/rolePolicyAttachment:RolePolicyAttachment")).toHaveLength(3);
  });

  it("knows ECR's repository name rule", () => {
    expect(mod.ecrRepositoryNameProblem("eks-eksCluster-0123abcd/ztunnel")).toMatch(/lowercase/);
    expect(mod.ecrRepositoryNameProblem("ambient-lab/ztunnel")).toBeUndefined();
    expect(() => new mod.EksCluster("bad-name", { clusterName: "Ambient" })).toThrow(/must be lowercase/);
  });

  it("refuses inconsistent node counts", () => {
    expect(() => new mod.EksCluster("bad", { minNodes: 4, desiredNodes: 3 })).toThrow(/minNodes \(4\) <= desiredNodes \(3\)/);
  });
});
