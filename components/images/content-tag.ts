// A tag that changes whenever what the images are built from changes (for kind, where images are loaded,
// never pulled: with a fixed tag and pull policy Never, a rebuilt image would never roll out).
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";

/** What mesh/Dockerfile copies into its build stage, relative to the repository root. */
export const BUILD_INPUTS = ["package.json", "package-lock.json", "mesh"];

/** The first 12 hex digits of a SHA-256 over the build inputs' paths and contents, in sorted order. */
export function contentHash(root: string, inputs: readonly string[] = BUILD_INPUTS): string {
  const files: string[] = [];
  const walk = (p: string) => {
    if (statSync(p).isDirectory()) for (const e of readdirSync(p).sort()) walk(join(p, e));
    else files.push(p);
  };
  for (const i of inputs) walk(join(root, i));
  const h = createHash("sha256");
  for (const f of files.sort()) h.update(relative(root, f)).update("\0").update(readFileSync(f)).update("\0");
  return h.digest("hex").slice(0, 12);
}

/** The Docker platform of this machine, for images loaded into a local kind cluster. */
export function hostPlatform(arch: string = process.arch): string {
  return arch === "arm64" ? "linux/arm64" : "linux/amd64";
}
