// Bundles a mesh program (ztunnel, control plane, waypoint) into one ES module with esbuild:
// what the images run, and what benchmarks run, so they measure the shipped artifact. A bundle also
// starts faster and uses less memory than running the TypeScript sources through type stripping.
import { build } from "esbuild";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { scriptArgs } from "./shared/index.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

export const PROGRAMS = { ztunnel: "mesh/ztunnel/main.ts", "control-plane": "mesh/control-plane/main.ts", waypoint: "mesh/waypoint/main.ts" } as const;
export type Program = keyof typeof PROGRAMS;

/**
 * Writes `<outDir>/<program>.mjs` and returns its path. koffi stays external: it ships a native library
 * per platform, installed next to the bundle in the image (see mesh/Dockerfile).
 */
export async function bundle(program: Program, outDir = join(ROOT, "dist")): Promise<string> {
  const outfile = join(outDir, `${program}.mjs`);
  await build({
    entryPoints: [join(ROOT, PROGRAMS[program])],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node24",
    external: ["koffi"],
    // Some dependencies are CommonJS and call require(); give the ES module one.
    banner: { js: "import { createRequire as __alCreateRequire } from 'node:module'; const require = __alCreateRequire(import.meta.url);" },
    legalComments: "none",
    // No comments or layout: V8 keeps a script's whole source text in the heap, and one non-ASCII
    // character in any comment (undici has some) makes all of it two bytes per character (the control
    // plane's source was 18.9 MB of heap, issue 13). Identifiers are kept, so stack traces keep names.
    minifyWhitespace: true,
    minifySyntax: true,
    logLevel: "warning",
  });
  return outfile;
}

/**
 * The npm packages a program's own sources import (not what those packages import in turn): what the
 * image's build stage must install (mesh/image-build/package.json), koffi aside.
 */
export async function importedPackages(program: Program): Promise<Set<string>> {
  const r = await build({
    entryPoints: [join(ROOT, PROGRAMS[program])],
    bundle: true,
    platform: "node",
    format: "esm",
    write: false,
    metafile: true,
    outdir: "out",
    external: ["koffi"],
    logLevel: "silent",
  });
  const packages = new Set<string>();
  // The files that ended up in the bundle (a barrel's unused re-exports are dropped: "sideEffects": false).
  const kept = new Set(Object.values(r.metafile.outputs).flatMap((o) => Object.keys(o.inputs)));
  for (const [file, input] of Object.entries(r.metafile.inputs)) {
    if (file.includes("node_modules/") || !kept.has(file)) continue;
    for (const i of input.imports) {
      const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(i.path);
      if (m) packages.add(m[1]!);
    }
  }
  return packages;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const usage = `Usage: npm run build [-- PROGRAM...]\n  bundles ${Object.keys(PROGRAMS).join(", ")} (default: all) into dist/ with esbuild\n`;
  const { positionals } = scriptArgs("build", usage, { options: {}, allowPositionals: true });
  const programs = (positionals.length ? positionals : Object.keys(PROGRAMS)) as Program[];
  for (const p of programs) {
    if (!(p in PROGRAMS)) {
      process.stderr.write(`unknown program "${p}"; known: ${Object.keys(PROGRAMS).join(", ")}\n`);
      process.exit(2);
    }
    process.stdout.write(`${await bundle(p)}\n`);
  }
}
