// Every bundle that goes into an image starts and answers --help (what the image entrypoint runs).
import { execFileSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { isBuiltin } from "node:module";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { bundle, importedPackages, PROGRAMS, type Program } from "./build.ts";

const out = join(import.meta.dirname, "..", "dist", `test-${process.pid}`);
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe("image bundles", () => {
  for (const program of Object.keys(PROGRAMS) as Program[]) {
    it(`${program} bundles into one module that starts`, async () => {
      const file = await bundle(program, out);
      const help = execFileSync(process.execPath, [file, "--help"], { encoding: "utf8", timeout: 20_000 });
      expect(help).toMatch(/Configured by environment variables/);
      // Self-contained: nothing but koffi and Node's own modules is imported at run time (the bundle is
      // minified: `import{a as b}from"node:fs"`; the count keeps this check from passing on no match).
      const text = readFileSync(file, "utf8");
      const imports = [...text.matchAll(/(?:^|[;\n])import\s*(?:[\w*{}\s,$]+?\s*from\s*)?["']([^"']+)["']/g)].map((m) => m[1]!);
      expect(imports.length).toBeGreaterThan(5);
      expect(imports.filter((i) => !isBuiltin(i) && i !== "koffi")).toEqual([]);
      // ASCII only: V8 holds a script's source in the heap, two bytes per character if any is not Latin-1.
      expect(text.match(/[^\x00-\x7f]/)?.[0]).toBeUndefined();
    }, 60_000);
  }

  it("the image build stage installs exactly what the bundles import, at the root lock's versions (not the Pulumi tree)", async () => {
    const root = join(import.meta.dirname, "..");
    const imageBuild = JSON.parse(readFileSync(join(import.meta.dirname, "image-build", "package.json"), "utf8")) as {
      type: string;
      dependencies: Record<string, string>;
    };
    const imageLock = JSON.parse(readFileSync(join(import.meta.dirname, "image-build", "package-lock.json"), "utf8")) as {
      packages: Record<string, { version?: string; dependencies?: Record<string, string> }>;
    };
    const rootLock = JSON.parse(readFileSync(join(root, "package-lock.json"), "utf8")) as { packages: Record<string, { version: string }> };
    const imported = new Set<string>();
    for (const p of Object.keys(PROGRAMS) as Program[]) for (const pkg of await importedPackages(p)) imported.add(pkg);
    const fix = "update mesh/image-build/package.json, then (cd mesh/image-build && npm install --package-lock-only)";
    expect(Object.keys(imageBuild.dependencies).sort(), fix).toEqual([...imported, "esbuild"].sort());
    expect(imageBuild.type).toBe("module");
    for (const [name, version] of Object.entries(imageBuild.dependencies)) {
      expect(version, `${name}: ${fix}`).toBe(rootLock.packages[`node_modules/${name}`]!.version);
      expect(imageLock.packages[`node_modules/${name}`]?.version, `${name} in mesh/image-build/package-lock.json: ${fix}`).toBe(version);
    }
    expect(imageLock.packages[""]!.dependencies, fix).toEqual(imageBuild.dependencies);
    for (const heavy of ["@pulumi/pulumi", "@pulumi/aws", "@pulumi/eks"]) expect(imageLock.packages).not.toHaveProperty(`node_modules/${heavy}`);
  }, 60_000);

  it("the Dockerfile has a target per program, on Node 24", () => {
    const dockerfile = readFileSync(join(import.meta.dirname, "Dockerfile"), "utf8");
    for (const program of Object.keys(PROGRAMS)) expect(dockerfile).toMatch(new RegExp(`^FROM \\$\\{NODE_IMAGE\\} AS ${program}$`, "m"));
    expect(dockerfile).toMatch(/ARG NODE_IMAGE=node:24\.\d+\.\d+-/);
  });
});
