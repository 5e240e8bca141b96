import { describe, expect, it } from "vitest";
import { MeshError } from "../shared/index.ts";
import { localEntrypoint, meshImages, NODE_BIN, parseImageConfigs, ROOT } from "./images.ts";

describe("mesh images on this machine", () => {
  it("reads each target's ENTRYPOINT and USER from mesh/Dockerfile", () => {
    const images = meshImages();
    expect([...images.keys()].sort()).toEqual(["control-plane", "waypoint", "ztunnel"]);
    expect(images.get("ztunnel")).toEqual({ entrypoint: ["node", "--max-semi-space-size=2", "/app/ztunnel.mjs"] });
    // The waypoint keeps an 8 MB young generation (the Dockerfile says why).
    expect(images.get("waypoint")).toMatchObject({ user: 1337, entrypoint: ["node", "--max-semi-space-size=8", "/app/waypoint.mjs"] });
    // Large buffers always mmap'd, so their memory goes back when freed (push/burst-collector.ts).
    expect(images.get("control-plane")?.env).toEqual({ MALLOC_MMAP_THRESHOLD_: "131072" });
    expect(localEntrypoint("ambient-lab/control-plane:local", meshImages()).env).toEqual({ MALLOC_MMAP_THRESHOLD_: "131072" });
  });

  it("runs the sources by default and the bundle when asked, with this Node and the image's flags", () => {
    expect(localEntrypoint("ambient-lab/ztunnel:local", meshImages()).argv).toEqual([NODE_BIN, "--max-semi-space-size=2", `${ROOT}mesh/ztunnel/main.ts`]);
    const missing = new Map([["nope", { entrypoint: ["node", "/app/nope.mjs"] }]]);
    expect(() => localEntrypoint("ambient-lab/nope:local", missing, { bundles: true })).toThrow(/dist\/nope.mjs is missing: run `npm run build` first/);
    expect(() => localEntrypoint("ghcr.io/x/ztunnel:0.1.0", meshImages())).toThrow(
      "image ghcr.io/x/ztunnel:0.1.0 is not one this machine can run; local images: ambient-lab/control-plane:local, ambient-lab/ztunnel:local, ambient-lab/waypoint:local",
    );
  });

  it("refuses a shell-form ENTRYPOINT, a named USER and a quoted ENV, with the line", () => {
    expect(() => parseImageConfigs("FROM a AS x\nENTRYPOINT node /app/x.mjs\n")).toThrow(MeshError);
    expect(() => parseImageConfigs("FROM a AS x\nENTRYPOINT node /app/x.mjs\n")).toThrow(/line 2: ENTRYPOINT must be the exec form/);
    expect(() => parseImageConfigs("FROM a AS x\nUSER node\n")).toThrow(/line 2: USER must be numeric/);
    expect(() => parseImageConfigs('FROM a AS x\nENV A "b c"\n')).toThrow(/line 2: ENV must be KEY=value pairs/);
    expect(parseImageConfigs('FROM a AS x\nENV A=1 B=\nENV A=2\nENTRYPOINT ["node"]\n').get("x")).toEqual({ entrypoint: ["node"], env: { A: "2", B: "" } });
    // Build stages without an ENTRYPOINT are not images this machine runs.
    expect([...parseImageConfigs('FROM a AS build\nRUN x\nFROM b AS run\nUSER 7:7\nENTRYPOINT ["node"]\n')]).toEqual([
      ["run", { entrypoint: ["node"], user: 7 }],
    ]);
  });
});
