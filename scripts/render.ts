#!/usr/bin/env node
// npm run render -- --registry R [--repo URL --revision main --tag 0.1.0 --out deploy]: writes the GitOps tree.
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseRenderArgs, RENDER_USAGE, RenderArgsError, type RenderArgs } from "../mesh/manifests/index.ts";
import { parseStackConfig } from "../components/config.ts";
import { renderGitOpsTree } from "../mesh/manifests/index.ts";
import { $ } from "zx";

let args: RenderArgs;
try {
  // The default --repo: where this clone came from (ArgoCD and Flux pull the tree from there).
  const remote = await $({ nothrow: true, quiet: true })`git remote get-url origin`;
  const parsed = parseRenderArgs(process.argv.slice(2), remote.exitCode === 0 ? remote.stdout.trim() : undefined);
  if (parsed === "help") {
    process.stdout.write(RENDER_USAGE);
    process.exit(0);
  }
  args = parsed;
} catch (err) {
  if (!(err instanceof RenderArgsError)) throw err;
  process.stderr.write(`render: ${err.message}\n\n${RENDER_USAGE}`);
  process.exit(2);
}
const values = { ...args, "trust-domain": args.trustDomain };
const defaults = parseStackConfig({ cluster: { provider: "kind" } });
const files = renderGitOpsTree({
  repoURL: values.repo,
  revision: values.revision,
  path: values.out,
  // The same pinned versions as the Pulumi stack's defaults.
  versions: defaults.versions,
  meshKind: values.mesh,
  mesh: {
    namespace: "istio-system",
    trustDomain: values["trust-domain"],
    logLevel: "info",
    ...(values.mesh === "ambient-lab"
      ? {
          images: {
            controlPlane: `${values.registry}/control-plane:${values.tag}`,
            ztunnel: `${values.registry}/ztunnel:${values.tag}`,
            waypoint: `${values.registry}/waypoint:${values.tag}`,
          },
        }
      : {}),
    pullPolicy: "IfNotPresent",
  },
  benchmark: {
    modes: defaults.benchmark.modes,
    settings: { ...defaults.benchmark, k6Version: defaults.versions.k6 },
    script: await readFile(new URL("../bench/k6/http-bench.ts", import.meta.url), "utf8"),
  },
});
// Relative to the checkout's root, whatever the working directory: that is where the repository has it.
const outDir = join(fileURLToPath(new URL("..", import.meta.url)), values.out);
await rm(outDir, { recursive: true, force: true });
for (const [path, text] of files) {
  await mkdir(dirname(join(outDir, path)), { recursive: true });
  await writeFile(join(outDir, path), text);
}
process.stdout.write(`wrote ${files.size} files under ${values.out}/ (apps: ${[...new Set([...files.keys()].map((p) => p.split("/")[0]))].join(", ")})\n`);
