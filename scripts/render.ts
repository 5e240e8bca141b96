#!/usr/bin/env node
// npm run render [-- --out deploy --repo <url> --revision main --tag 0.1.0]: writes the GitOps tree.
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { parseStackConfig } from "../components/config.ts";
import { renderGitOpsTree } from "../mesh/manifests/gitops.ts";

const { values } = parseArgs({
  options: {
    out: { type: "string", default: "deploy" },
    repo: { type: "string", default: "https://github.com/example/ambient-lab.git" },
    revision: { type: "string", default: "main" },
    tag: { type: "string", default: "0.1.0" },
    "trust-domain": { type: "string", default: "cluster.local" },
  },
});
if (values.tag === "latest") {
  process.stderr.write("render: --tag must be pinned, not latest\n");
  process.exit(2);
}
const defaults = parseStackConfig({ cluster: { provider: "kind" } });
const files = renderGitOpsTree({
  repoURL: values.repo,
  revision: values.revision,
  path: values.out,
  // The same pinned versions as the Pulumi stack's defaults.
  versions: defaults.versions,
  mesh: {
    namespace: "istio-system",
    trustDomain: values["trust-domain"],
    logLevel: "info",
    images: { controlPlane: `ambient-lab/control-plane:${values.tag}`, ztunnel: `ambient-lab/ztunnel:${values.tag}`, waypoint: `ambient-lab/waypoint:${values.tag}` },
    pullPolicy: "IfNotPresent",
  },
  benchmark: {
    modes: defaults.benchmark.modes,
    settings: { ...defaults.benchmark, k6Version: defaults.versions.k6 },
    script: await readFile(new URL("../bench/k6/http-bench.ts", import.meta.url), "utf8"),
  },
});
await rm(values.out, { recursive: true, force: true });
for (const [path, text] of files) {
  await mkdir(dirname(join(values.out, path)), { recursive: true });
  await writeFile(join(values.out, path), text);
}
process.stdout.write(`wrote ${files.size} files under ${values.out}/ (apps: ${[...new Set([...files.keys()].map((p) => p.split("/")[0]))].join(", ")})\n`);
