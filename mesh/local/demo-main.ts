#!/usr/bin/env node
// npm run demo [-- --keep] [-- --install-deps]
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describeError } from "../shared/index.ts";
import { scriptArgs } from "../shared/index.ts";
import { runDemo } from "./demo.ts";
import { checkPrereqs, describeMissing, installMissing } from "./prereqs.ts";

const USAGE =
  "Usage: npm run demo [-- --keep] [-- --install-deps]\n  Runs the mesh on this machine in network namespaces (needs root), shows it working, writes results/demo.{json,md}.\n  --keep leaves the cluster up (ambientctl local status / down); --install-deps installs missing Debian packages.\n";
const { values } = scriptArgs("demo", USAGE, { options: { keep: { type: "boolean", default: false }, "install-deps": { type: "boolean", default: false } } });
const say = (s: string) => process.stdout.write(`${s}\n`);
let report = await checkPrereqs("demo");
if (values["install-deps"] && report.root && report.missing.length) {
  await installMissing(report, say);
  report = await checkPrereqs("demo");
}
const problem = describeMissing(report);
if (problem) {
  process.stderr.write(`${problem}\n`);
  process.exit(2);
}
const resultsDir = join(fileURLToPath(new URL("../..", import.meta.url)), "results");
try {
  const result = await runDemo({ keep: values.keep, resultsDir, say });
  const failed = result.steps.filter((s) => !s.ok);
  say(failed.length ? `${failed.length} step(s) failed` : "all steps passed");
  process.exitCode = failed.length ? 1 : 0;
} catch (err) {
  process.stderr.write(`demo failed: ${describeError(err)}\n`);
  process.exitCode = 1;
}
