// The whole program under mocks with the EKS example stack's configuration.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { commandStdout, EKS_CALLS, installMocks, settle, valueOf as value } from "./testing/mocks.ts";

const registered = installMocks({
  stack: "eks",
  outputs: (type, name, inputs) => {
    if (type === "command:local:Command") return { stdout: commandStdout(name) };
    return (
      {
        "awsx:ec2:Vpc": { vpcId: "vpc-1", publicSubnetIds: ["a"], privateSubnetIds: ["b"] },
        // The provider's real naming: the `name` input, else autonaming "<resource>-eksCluster-<8 hex>".
        "eks:index:Cluster": { kubeconfigJson: "{}", eksCluster: { name: inputs.name ?? `${name}-eksCluster-0123abcd` } },
        "docker-build:index:Image": { digest: "sha256:abcd" },
      } as Record<string, Record<string, unknown>>
    )[type];
  },
  calls: EKS_CALLS,
});
const stackFile = parse(readFileSync(join(import.meta.dirname, "..", "Pulumi.eks.yaml"), "utf8")) as { config: Record<string, unknown> };
pulumi.runtime.setAllConfig(Object.fromEntries(Object.entries(stackFile.config).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)])));

let program: typeof import("../index.ts");
beforeAll(async () => {
  program = await import("../index.ts");
});

describe("the Pulumi program with the EKS example stack", () => {
  it("creates the EKS cluster, pushes the images to ECR and deploys them by digest", async () => {
    expect(program.clusterProvider).toBe("eks");
    expect(await value(program.meshImages!.ztunnel)).toBe("123456789012.dkr.ecr.us-east-1.amazonaws.com/ambient-lab/ztunnel@sha256:abcd");
    await settle(150);
    const types = registered.map((r) => r.type);
    for (const t of ["ambient-lab:cluster:EksCluster", "ambient-lab:images:MeshImages", "ambient-lab:mesh:Mesh", "pulumi:providers:aws"])
      expect(types).toContain(t);
    expect(registered.find((r) => r.type === "pulumi:providers:aws")?.inputs.region).toBe("us-east-1");
    const ds = registered.find((r) => r.type === "kubernetes:apps/v1:DaemonSet")!;
    const c = (ds.inputs.spec as { template: { spec: { containers: Array<{ image: string; imagePullPolicy: string }> } } }).template.spec.containers[0]!;
    expect(c).toMatchObject({ image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/ambient-lab/ztunnel@sha256:abcd", imagePullPolicy: "IfNotPresent" });
  });
});
