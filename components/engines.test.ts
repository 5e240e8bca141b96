// The runtime the project declares, and the check npm cannot do for us: npm compares dependencies'
// `engines` with the Node that runs npm (the machine's, often older), while every script here runs on
// the pinned `node` devDependency. So the warnings that matter are checked here, against the pinned Node.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import semver from "semver";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
  engines: { node: string };
  devEngines: { runtime: { name: string; version: string; onFail: string } };
  devDependencies: Record<string, string>;
};
const lock = JSON.parse(readFileSync(join(root, "package-lock.json"), "utf8")) as {
  packages: Record<string, { version?: string; engines?: { node?: string } | string[]; optional?: boolean }>;
};

describe("the Node the project runs on", () => {
  it("is the pinned devDependency, and the tests run on it", () => {
    const pinned = lock.packages["node_modules/node"]!.version!;
    expect(semver.satisfies(pinned, pkg.engines.node), `pinned node ${pinned} vs engines ${pkg.engines.node}`).toBe(true);
    expect(semver.satisfies(pinned, pkg.devDependencies.node!)).toBe(true);
    expect(process.versions.node).toBe(pinned);
  });

  it("satisfies every dependency's engines.node (the real EBADENGINE check)", () => {
    const pinned = lock.packages["node_modules/node"]!.version!;
    const unmet = Object.entries(lock.packages)
      .filter(([path, p]) => path !== "" && !p.optional && p.engines && !Array.isArray(p.engines) && p.engines.node)
      .filter(([, p]) => !semver.satisfies(pinned, (p.engines as { node: string }).node, { includePrerelease: true }))
      .map(([path, p]) => `${path.replace(/^.*node_modules\//, "")}@${p.version} needs node ${(p.engines as { node: string }).node}`);
    expect(unmet, `the pinned Node ${pinned} is too old for these; raise the "node" devDependency`).toEqual([]);
  });

  it("declares npm's own runtime through devEngines, which is what runs `npm ci` on a fresh machine", () => {
    // With devEngines, npm checks the Node running npm against it, and no longer checks the project's
    // own `engines` (which is about the pinned runtime): no warning per `npx ambientctl`.
    expect(pkg.devEngines.runtime).toEqual({ name: "node", version: ">=20", onFail: "error" });
    // Node 20 is what Debian ships; npm ci and the `node` package's installer run on it.
    expect(semver.satisfies("20.19.2", pkg.devEngines.runtime.version)).toBe(true);
  });
});
