#!/usr/bin/env node
// npm run deploy / npm run cleanup: thin wrappers around the Pulumi CLI (which runs index.ts on this
// project's Node 24), with clear messages when a tool is missing.
//   deploy  -- --stack dev    pulumi up
//   cleanup -- --stack dev    pulumi destroy, then delete the kind cluster if it is still there
import { spawnSync } from "node:child_process";
import { parseArgs } from "node:util";

const [action, ...rest] = process.argv.slice(2);
const { values } = parseArgs({ args: rest, options: { stack: { type: "string", default: "dev" }, yes: { type: "boolean", default: true } } });

function need(tool: string, hint: string): void {
  if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0) {
    process.stderr.write(`${tool} is not installed: ${hint}\n`);
    process.exit(2);
  }
}

function run(cmd: string, args: string[], allowFail = false): number {
  process.stdout.write(`$ ${cmd} ${args.join(" ")}\n`);
  const r = spawnSync(cmd, args, { stdio: "inherit" });
  if (r.status !== 0 && !allowFail) process.exit(r.status ?? 1);
  return r.status ?? 1;
}

need("pulumi", "see https://www.pulumi.com/docs/install/");
const yes = values.yes ? ["--yes"] : [];
if (action === "deploy") {
  run("pulumi", ["up", "--stack", values.stack, ...yes]);
} else if (action === "cleanup") {
  run("pulumi", ["destroy", "--stack", values.stack, ...yes], true);
  // The cluster may outlive a failed destroy; deleting a kind cluster that is gone is not an error.
  if (spawnSync("sh", ["-c", "command -v kind"]).status === 0) {
    const clusters = spawnSync("kind", ["get", "clusters"], { encoding: "utf8" }).stdout.split("\n");
    if (clusters.includes("ambient-lab")) run("kind", ["delete", "cluster", "--name", "ambient-lab"], true);
  }
} else {
  process.stderr.write("usage: node scripts/pulumi.ts deploy|cleanup [--stack dev]\n");
  process.exit(2);
}
