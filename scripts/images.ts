#!/usr/bin/env node
// npm run images -- --registry R [--tag 0.1.0] [--push]: builds the mesh images (one per mesh/Dockerfile
// target) for GitOps users, and with --push pushes them for linux/amd64 and linux/arm64.
import { parseArgs } from "node:util";
import { $ } from "zx";
import { buildCommands } from "../components/images/build-commands.ts";
import { hostPlatform } from "../components/images/content-tag.ts";

const USAGE = `Usage: npm run images -- --registry REGISTRY [--tag 0.1.0] [--push]
  --registry  where the images go: REGISTRY/control-plane, REGISTRY/ztunnel, REGISTRY/waypoint
  --tag       pinned tag (default 0.1.0; not latest)
  --push      push them, built for linux/amd64 and linux/arm64 (without it: load this machine's platform)
Then: npm run render -- --registry REGISTRY --tag TAG. Needs docker with buildx.
`;

let v: { registry?: string; tag: string; push: boolean; help: boolean };
try {
  const { values } = parseArgs({
    options: {
      registry: { type: "string" },
      tag: { type: "string", default: "0.1.0" },
      push: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
  });
  v = values as typeof v;
} catch (err) {
  process.stderr.write(`images: ${(err as Error).message}\n\n${USAGE}`);
  process.exit(2);
}
if (v.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
if (!v.registry || !/^[a-z0-9.-]+(:\d+)?(\/[a-z0-9._-]+)*$/.test(v.registry)) {
  process.stderr.write(`images: --registry is required, a lowercase host[:port]/path (got "${v.registry ?? ""}")\n`);
  process.exit(2);
}
if (v.tag === "latest") {
  process.stderr.write("images: --tag must be pinned, not latest\n");
  process.exit(2);
}
if ((await $({ nothrow: true, quiet: true })`docker buildx version`).exitCode !== 0) {
  process.stderr.write("images: docker with buildx is needed (https://docs.docker.com/build/)\n");
  process.exit(2);
}
$.verbose = true;
for (const cmd of buildCommands({ registry: v.registry, tag: v.tag, push: v.push, platforms: v.push ? ["linux/amd64", "linux/arm64"] : [hostPlatform()] })) {
  await $`${cmd}`;
}
process.stdout.write(`images ${v.push ? "pushed" : "built"}: ${v.registry}/{control-plane,ztunnel,waypoint}:${v.tag}\n`);
