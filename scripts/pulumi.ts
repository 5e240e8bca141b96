#!/usr/bin/env node
// npm run deploy / npm run cleanup: thin wrappers around the Pulumi CLI (which runs index.ts on this
// project's Node 24), with clear messages when a tool is missing.
//   deploy  -- --stack dev    pulumi up
//   cleanup -- --stack dev    pulumi destroy, then delete the stack's kind cluster if it is still there
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { kindClusterNameOf } from "../components/config.ts";

const USAGE = `Usage: node scripts/pulumi.ts deploy|cleanup [--stack NAME] [--no-yes]
  deploy   pulumi up on the stack (default dev)
  cleanup  pulumi destroy on the stack, then delete its kind cluster if it still exists. The cluster's
           name comes from Pulumi.<stack>.yaml (ambient-lab:cluster.kind.name). A kind cluster deleted
           by hand does not wedge the destroy: its Kubernetes objects are dropped from the state.
`;

let action: string | undefined;
let values: { stack: string; yes: boolean; help?: boolean };
try {
  const parsed = parseArgs({ allowPositionals: true, options: { stack: { type: "string", default: "dev" }, yes: { type: "boolean", default: true }, "no-yes": { type: "boolean" }, help: { type: "boolean", short: "h" } }, strict: true });
  action = parsed.positionals[0];
  values = { stack: parsed.values.stack, yes: parsed.values.yes && !parsed.values["no-yes"], help: parsed.values.help ?? false };
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n\n${USAGE}`);
  process.exit(2);
}
if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
if (action !== "deploy" && action !== "cleanup") {
  process.stderr.write(USAGE);
  process.exit(2);
}
if (!/^[A-Za-z0-9_.-]+$/.test(values.stack)) {
  process.stderr.write(`--stack "${values.stack}" is not a stack name\n`);
  process.exit(2);
}

function has(tool: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${tool}`]).status === 0;
}

function need(tool: string, hint: string): void {
  if (!has(tool)) {
    process.stderr.write(`${tool} is not installed: ${hint}\n`);
    process.exit(2);
  }
}

function run(cmd: string, args: string[]): number {
  process.stdout.write(`$ ${cmd} ${args.join(" ")}\n`);
  return spawnSync(cmd, args, { stdio: "inherit" }).status ?? 1;
}

need("pulumi", "see https://www.pulumi.com/docs/install/");
const yes = values.yes ? ["--yes"] : [];
if (action === "deploy") {
  process.exit(run("pulumi", ["up", "--stack", values.stack, ...yes]));
}

const stackFile = `Pulumi.${values.stack}.yaml`;
const kindName = existsSync(stackFile) ? kindClusterNameOf(readFileSync(stackFile, "utf8")) : undefined;
const destroyed = run("pulumi", ["destroy", "--stack", values.stack, ...yes]);
// The cluster may outlive a failed destroy; deleting a kind cluster that is gone is not an error.
if (kindName && has("kind")) {
  const clusters = spawnSync("kind", ["get", "clusters"], { encoding: "utf8" }).stdout.split("\n");
  if (clusters.includes(kindName)) run("kind", ["delete", "cluster", "--name", kindName]);
}
if (destroyed !== 0) {
  process.stderr.write(`pulumi destroy failed (exit ${destroyed}); the stack still records resources. Fix what it reported and run cleanup again (\`pulumi stack --stack ${values.stack}\` lists them).\n`);
  process.exit(1);
}
