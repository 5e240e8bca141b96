import { describe, expect, it } from "vitest";
import { buildCommands } from "./build-commands.ts";

describe("npm run images (issue 10)", () => {
  it("builds every target, multi-arch and pushed, or for this machine and loaded", () => {
    const pushed = buildCommands({ registry: "ghcr.io/me/al", tag: "0.2.0", push: true, platforms: ["linux/amd64", "linux/arm64"] });
    expect(pushed.map((c) => c[6])).toEqual(["control-plane", "ztunnel", "waypoint"]);
    expect(pushed[1]).toEqual([
      "docker",
      "buildx",
      "build",
      "-f",
      "mesh/Dockerfile",
      "--target",
      "ztunnel",
      "--platform",
      "linux/amd64,linux/arm64",
      "-t",
      "ghcr.io/me/al/ztunnel:0.2.0",
      "--push",
      ".",
    ]);
    expect(buildCommands({ registry: "r.io/x", tag: "1", push: false, platforms: ["linux/arm64"] })[0]).toContain("--load");
  });
});
