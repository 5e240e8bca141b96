import { parse, parseAllDocuments } from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { installMocks, settle } from "../testing/mocks.ts";

const registered = installMocks({
  outputs: (type, _name, inputs) =>
    type === "command:local:Command" && String(inputs.create).startsWith("kind get kubeconfig") ? { stdout: "apiVersion: v1\nkind: Config\n" } : undefined,
});

let mod: typeof import("./kind.ts");
let cfg: typeof import("./kind-config.ts");
beforeAll(async () => {
  mod = await import("./kind.ts");
  cfg = await import("./kind-config.ts");
});

describe("KindCluster", () => {
  it("renders a kind config with labelled workers and a tainted load-generator node", () => {
    const c = parse(cfg.renderKindConfig({ workers: 2, nodeImage: "kindest/node:v1.33.1" })) as {
      nodes: Array<{ role: string; image: string; kubeadmConfigPatches: string[] }>;
    };
    expect(c.nodes.map((n) => n.role)).toEqual(["control-plane", "worker", "worker", "worker"]);
    expect(c.nodes.every((n) => n.image === "kindest/node:v1.33.1")).toBe(true);
    expect(c.nodes[0]!.kubeadmConfigPatches[0]).toContain("ingress-ready=true");
    const last = parseAllDocuments(c.nodes[3]!.kubeadmConfigPatches[0]!)[0]!.toJS() as { nodeRegistration: { kubeletExtraArgs: Record<string, string> } };
    expect(last.nodeRegistration.kubeletExtraArgs["register-with-taints"]).toBe("ambient-lab.io/loadgen=true:NoSchedule");
    expect(last.nodeRegistration.kubeletExtraArgs["node-labels"]).toContain("ambient-lab.io/role=loadgen");
  });

  it("creates the cluster with the kind CLI, deletes it idempotently, and exposes the kubeconfig as a secret", async () => {
    const k = new mod.KindCluster("kind", { workers: 2 });
    const isSecret = await (k.kubeconfig as unknown as { isSecret: Promise<boolean> }).isSecret;
    expect(isSecret).toBe(true);
    await settle();
    const create = registered.find((r) => r.name === "kind-create")!;
    expect(create.type).toBe("command:local:Command");
    expect(create.inputs.create).toBe("kind create cluster --name ambient-lab --config - --wait 120s");
    expect(create.inputs.delete).toBe("kind delete cluster --name ambient-lab");
    expect(String(create.inputs.stdin)).toContain("kind: Cluster");
    const provider = registered.find((r) => r.type === "pulumi:providers:kubernetes" && r.name === "kind-provider");
    // A cluster deleted outside Pulumi must not wedge `task cleanup` (issue 10, problem 7).
    expect(provider?.inputs.deleteUnreachable).toBe("true");
  });

  it("hands out its name only as an output of the create command (issue 10, problem 2)", async () => {
    const k = new mod.KindCluster("kind-order", { workers: 1 });
    // The resources an Output carries become the dependencies of whatever takes it as an input.
    const deps = await (k.name as unknown as { resources(): Promise<Set<{ urn: { promise(): Promise<string> } }>> }).resources();
    const urns = await Promise.all([...deps].map((r) => r.urn.promise()));
    expect(urns.some((u) => u.endsWith("::kind-order-create"))).toBe(true);
  });

  it("refuses bad arguments with a ResourceError naming them", () => {
    expect(() => new mod.KindCluster("bad", { workers: 0 })).toThrow(/workers must be 1..10, got 0/);
    expect(() => new mod.KindCluster("bad2", { nodeImage: "kindest/node:latest" })).toThrow(/must be pinned/);
  });
});
