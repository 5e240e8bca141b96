import { describe, expect, it } from "vitest";
import { parseStackConfig, StackConfigError } from "./config.ts";

describe("stack config", () => {
  it("fills documented defaults for a kind stack", () => {
    const c = parseStackConfig({ cluster: { provider: "kind" } });
    expect(c.cluster.kind).toEqual({ name: "ambient-lab", workers: 2, nodeImage: "kindest/node:v1.33.1" });
    expect(c.cluster.eks.instanceType).toBe("t3.medium");
    expect(c.cluster.eks.desiredNodes).toBe(3);
    expect(c.mesh).toEqual({ kind: "ambient-lab", trustDomain: "cluster.local", imageTag: "0.1.0", logLevel: "info" });
    expect(c.benchmark.modes).toEqual(["baseline", "sidecar", "ambient", "waypoint"]);
  });

  it("names every bad key and what it accepts", () => {
    let err: StackConfigError | undefined;
    try {
      parseStackConfig({
        cluster: { provider: "gke", eks: { minNodes: 4, desiredNodes: 3 } },
        mesh: { imageTag: "latest" },
        benchmark: { duration: "soon", modes: ["mesh"] },
        colour: "blue",
      });
    } catch (e) {
      err = e as StackConfigError;
    }
    expect(err).toBeInstanceOf(StackConfigError);
    const text = err!.problems.join("\n");
    expect(text).toContain('ambient-lab:cluster (path provider): must be "kind" or "eks"');
    expect(text).toContain("ambient-lab:mesh (path imageTag): must be pinned");
    expect(text).toContain("ambient-lab:benchmark (path duration): must be a k6 duration");
    expect(text).toContain("ambient-lab:benchmark (path modes.0)");
    expect(text).toContain("unknown key(s) colour");
  });

  it("takes the mesh as a word or as an object's kind, and names what it accepts (issue 16)", () => {
    expect(parseStackConfig({ cluster: { provider: "kind" }, mesh: "istio" }).mesh).toEqual({
      kind: "istio",
      trustDomain: "cluster.local",
      imageTag: "0.1.0",
      logLevel: "info",
    });
    expect(parseStackConfig({ cluster: { provider: "kind" }, mesh: { kind: "istio", trustDomain: "example.org" } }).mesh.trustDomain).toBe("example.org");
    expect(() => parseStackConfig({ cluster: { provider: "kind" }, mesh: "linkerd" })).toThrow(
      /ambient-lab:mesh \(path kind\): must be "ambient-lab" \(ours\) or "istio"/,
    );
  });

  it("says how to set a missing required key", () => {
    expect(() => parseStackConfig({})).toThrow(/ambient-lab:cluster: is required \(pulumi config set --path 'cluster' <value>\)/);
  });

  it("checks the EKS node counts against each other", () => {
    expect(() => parseStackConfig({ cluster: { provider: "eks", eks: { minNodes: 4, desiredNodes: 3, maxNodes: 5 } } })).toThrow(
      /minNodes \(4\) <= desiredNodes \(3\) <= maxNodes \(5\)/,
    );
  });
});

describe("the kind cluster of a stack file (cleanup reads it; issue 10, problem 7)", () => {
  it("comes from ambient-lab:cluster, with the schema's default, and only for kind stacks", async () => {
    const { readFileSync } = await import("node:fs");
    const { kindClusterNameOf } = await import("./config.ts");
    expect(kindClusterNameOf(readFileSync(new URL("../Pulumi.dev.yaml", import.meta.url), "utf8"))).toBe("ambient-lab");
    expect(kindClusterNameOf("config:\n  ambient-lab:cluster:\n    provider: kind\n    kind: { name: lab-2 }\n")).toBe("lab-2");
    expect(kindClusterNameOf("config:\n  ambient-lab:cluster:\n    provider: kind\n")).toBe("ambient-lab");
    expect(kindClusterNameOf(readFileSync(new URL("../Pulumi.eks.yaml", import.meta.url), "utf8"))).toBeUndefined();
  });
});
