// Every bundle that goes into an image starts and answers --help (what the image entrypoint runs).
import { execFileSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { isBuiltin } from "node:module";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { bundle, PROGRAMS, type Program } from "./build.ts";

const out = join(import.meta.dirname, "..", "dist", `test-${process.pid}`);
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe("image bundles", () => {
  for (const program of Object.keys(PROGRAMS) as Program[]) {
    it(`${program} bundles into one module that starts`, async () => {
      const file = await bundle(program, out);
      const help = execFileSync(process.execPath, [file, "--help"], { encoding: "utf8", timeout: 20_000 });
      expect(help).toMatch(/Configured by environment variables/);
      // Self-contained: nothing but koffi and Node's own modules is imported at run time.
      const imports = [...readFileSync(file, "utf8").matchAll(/^import .* from "([^"]+)";$/gm)].map((m) => m[1]!);
      expect(imports.filter((i) => !isBuiltin(i) && i !== "koffi")).toEqual([]);
    }, 60_000);
  }

  it("the Dockerfile has a target per program, on Node 24", () => {
    const dockerfile = readFileSync(join(import.meta.dirname, "Dockerfile"), "utf8");
    for (const program of Object.keys(PROGRAMS)) expect(dockerfile).toMatch(new RegExp(`^FROM \\$\\{NODE_IMAGE\\} AS ${program}$`, "m"));
    expect(dockerfile).toMatch(/ARG NODE_IMAGE=node:24\.\d+\.\d+-/);
  });
});
