// The whole program under mocks with the EKS example stack's configuration.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { beforeAll, describe, expect, it } from "vitest";

const registered: Array<{ type: string; name: string; inputs: Record<string, unknown> }> = [];
pulumi.runtime.setMocks(
  {
    newResource: (args) => {
      registered.push({ type: args.type, name: args.name, inputs: args.inputs });
      const outputs: Record<string, unknown> =
        ({
          "awsx:ec2:Vpc": { vpcId: "vpc-1", publicSubnetIds: ["a"], privateSubnetIds: ["b"] },
          "eks:index:Cluster": { kubeconfigJson: "{}", eksCluster: { name: "eks-cluster" } },
          "docker-build:index:Image": { digest: "sha256:abcd" },
        } as Record<string, Record<string, unknown>>)[args.type] ?? {};
      if (args.type === "command:local:Command" && args.name.endsWith("-results")) {
        outputs.stdout = 'AMBIENT_LAB_SUMMARY {"mode":"x","requestedRate":1000,"achievedRate":1000,"requests":1,"errorRate":0,"droppedIterations":0,"latencyMs":null}\n';
      }
      return { id: `${args.name}-id`, state: { ...args.inputs, ...outputs } };
    },
    call: (args) =>
      ((
        {
          "aws:index/getCallerIdentity:getCallerIdentity": { accountId: "123456789012" },
          "aws:index/getRegion:getRegion": { region: "us-east-1", name: "us-east-1" },
          "aws:ecr/getAuthorizationToken:getAuthorizationToken": { proxyEndpoint: "https://x", userName: "AWS", password: "p" },
        } as Record<string, Record<string, unknown>>
      )[args.token] ?? args.inputs),
  },
  "ambient-lab",
  "eks",
);
const stackFile = parse(readFileSync(join(import.meta.dirname, "..", "Pulumi.eks.yaml"), "utf8")) as { config: Record<string, unknown> };
pulumi.runtime.setAllConfig(Object.fromEntries(Object.entries(stackFile.config).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)])));

let program: typeof import("../index.ts");
beforeAll(async () => {
  program = await import("../index.ts");
});

const value = <T>(o: pulumi.Output<T>) => new Promise<T>((r) => o.apply((v) => r(v)));

describe("the Pulumi program with the EKS example stack", () => {
  it("creates the EKS cluster, pushes the images to ECR and deploys them by digest", async () => {
    expect(program.clusterProvider).toBe("eks");
    expect(await value(program.meshImages.ztunnel)).toBe("123456789012.dkr.ecr.us-east-1.amazonaws.com/eks-cluster/ztunnel@sha256:abcd");
    await new Promise((r) => setTimeout(r, 150));
    const types = registered.map((r) => r.type);
    for (const t of ["ambient-lab:cluster:EksCluster", "ambient-lab:images:MeshImages", "ambient-lab:mesh:Mesh", "pulumi:providers:aws"]) expect(types).toContain(t);
    expect(registered.find((r) => r.type === "pulumi:providers:aws")?.inputs.region).toBe("us-east-1");
    const ds = registered.find((r) => r.type === "kubernetes:apps/v1:DaemonSet")!;
    const c = (ds.inputs.spec as { template: { spec: { containers: Array<{ image: string; imagePullPolicy: string }> } } }).template.spec.containers[0]!;
    expect(c).toMatchObject({ image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/eks-cluster/ztunnel@sha256:abcd", imagePullPolicy: "IfNotPresent" });
  });
});
