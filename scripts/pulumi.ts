#!/usr/bin/env node
// npm run deploy / npm run cleanup: thin wrappers around the Pulumi CLI (which runs index.ts on this
// project's Node 24), with clear messages when a tool is missing. Shells out with zx.
//   deploy  -- --stack dev    pulumi up
//   cleanup -- --stack dev    pulumi destroy, then delete the stack's kind cluster if it is still there
import { existsSync, readFileSync } from "node:fs";
import { $, which } from "zx";
import { kindClusterNameOf } from "../components/config.ts";
import { scriptArgs } from "../mesh/shared/index.ts";

const USAGE = `Usage: node scripts/pulumi.ts deploy|cleanup [--stack NAME] [--no-yes]
  deploy   pulumi up on the stack (default dev)
  cleanup  pulumi destroy on the stack, then delete its kind cluster if it still exists. The cluster's
           name comes from Pulumi.<stack>.yaml (ambient-lab:cluster.kind.name). A kind cluster deleted
           by hand does not wedge the destroy: its Kubernetes objects are dropped from the state.
`;

const { values, positionals } = scriptArgs("pulumi", USAGE, {
  allowPositionals: true,
  options: { stack: { type: "string", default: "dev" }, "no-yes": { type: "boolean", default: false } },
});
const [action, ...extra] = positionals;
if ((action !== "deploy" && action !== "cleanup") || extra.length > 0) {
  process.stderr.write(`pulumi: expected deploy or cleanup${action ? `, got "${positionals.join(" ")}"` : ""}\n\n${USAGE}`);
  process.exit(2);
}
if (!/^[A-Za-z0-9_.-]+$/.test(values.stack)) {
  process.stderr.write(`--stack "${values.stack}" is not a stack name\n`);
  process.exit(2);
}

const has = async (tool: string) => (await which(tool, { nothrow: true })) !== null;
if (!(await has("pulumi"))) {
  process.stderr.write("pulumi is not installed: see https://www.pulumi.com/docs/install/\n");
  process.exit(2);
}
// Commands are echoed and their output streamed; a failing command is reported, not thrown.
const sh = $({ stdio: "inherit", nothrow: true, verbose: true });
const yes = values["no-yes"] ? [] : ["--yes"];
if (action === "deploy") {
  process.exit((await sh`pulumi up --stack ${values.stack} ${yes}`).exitCode ?? 1);
}

const stackFile = `Pulumi.${values.stack}.yaml`;
const kindName = existsSync(stackFile) ? kindClusterNameOf(readFileSync(stackFile, "utf8")) : undefined;
const destroyed = (await sh`pulumi destroy --stack ${values.stack} ${yes}`).exitCode ?? 1;
// The cluster may outlive a failed destroy; deleting a kind cluster that is gone is not an error.
if (kindName && (await has("kind"))) {
  const clusters = (await $({ nothrow: true, quiet: true })`kind get clusters`).stdout.split("\n");
  if (clusters.includes(kindName)) await sh`kind delete cluster --name ${kindName}`;
}
if (destroyed !== 0) {
  process.stderr.write(
    `pulumi destroy failed (exit ${destroyed}); the stack still records resources. Fix what it reported and run cleanup again (\`pulumi stack --stack ${values.stack}\` lists them).\n`,
  );
  process.exit(1);
}
