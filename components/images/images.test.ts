import { beforeAll, describe, expect, it } from "vitest";
import { installMocks, valueOf as value } from "../testing/mocks.ts";

const registered = installMocks({ outputs: (type) => (type === "docker-build:index:Image" ? { digest: "sha256:0123" } : undefined) });

let mod: typeof import("./index.ts");
beforeAll(async () => {
  mod = await import("./index.ts");
});

describe("MeshImages", () => {
  it("kind: builds each target without building on preview, loads it into the nodes, deploys by tag", async () => {
    const images = new mod.MeshImages("img", { tag: "0.1.0", kindCluster: "ambient-lab" });
    expect(await value(images.refs.ztunnel)).toBe("ambient-lab/ztunnel:0.1.0");
    const built = registered.filter((r) => r.type === "docker-build:index:Image");
    expect(built.map((b) => b.inputs.target)).toEqual(["control-plane", "ztunnel", "waypoint"]);
    expect(built.every((b) => b.inputs.buildOnPreview === false && b.inputs.push === false && b.inputs.load === true)).toBe(true);
    const load = registered.find((r) => r.name === "img-ztunnel-load")!;
    expect(load.inputs.create).toBe("kind load docker-image ambient-lab/ztunnel:0.1.0 --name ambient-lab");
  });

  it("registry: pushes for amd64 and arm64 and deploys by digest", async () => {
    const images = new mod.MeshImages("reg", { tag: "0.1.0", registry: { repositoryPrefix: "123.dkr.ecr.us-east-1.amazonaws.com/ambient-lab" } });
    expect(await value(images.refs["control-plane"])).toBe("123.dkr.ecr.us-east-1.amazonaws.com/ambient-lab/control-plane@sha256:0123");
    expect(registered.find((r) => r.name === "reg-ztunnel")!.inputs.platforms).toEqual(["linux/amd64", "linux/arm64"]);
  });

  it("kind: the tag carries the build inputs' hash and the host's platform, so changed code rolls out (issue 10, problem 9)", async () => {
    const images = new mod.MeshImages("ck", { tag: "0.1.0", kindCluster: "ambient-lab", contentHash: "abc123def456", hostPlatform: "linux/arm64" });
    expect(await value(images.refs.ztunnel)).toBe("ambient-lab/ztunnel:0.1.0-abc123def456");
    expect(registered.find((r) => r.name === "ck-ztunnel")!.inputs.platforms).toEqual(["linux/arm64"]);
    expect(registered.find((r) => r.name === "ck-ztunnel-load")!.inputs.create).toBe(
      "kind load docker-image ambient-lab/ztunnel:0.1.0-abc123def456 --name ambient-lab",
    );
  });

  it("refuses latest and ambiguous destinations", () => {
    expect(() => new mod.MeshImages("a", { tag: "latest", kindCluster: "x" })).toThrow(/pinned/);
    expect(() => new mod.MeshImages("b", { tag: "0.1.0" })).toThrow(/exactly one of kindCluster/);
  });
});
