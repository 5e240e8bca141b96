#!/usr/bin/env node
// npm's pretest hook: the test suite creates network namespaces, nftables rules and real processes,
// so it needs root and a few Debian tools. As root with apt-get, missing tools are installed;
// otherwise this stops with the command that fixes it.
import { checkPrereqs, describeMissing, installMissing, type Purpose } from "../mesh/local/index.ts";
import { scriptArgs } from "../mesh/shared/index.ts";

const PURPOSES: Purpose[] = ["test", "demo", "bench", "local", "monitoring"];
const USAGE = `Usage: node scripts/prereqs.ts [${PURPOSES.join("|")}] [--install]
  checks the Debian tools that purpose needs (default test); --install installs missing ones with apt-get (root)
`;
const { values, positionals } = scriptArgs("prereqs", USAGE, { allowPositionals: true, options: { install: { type: "boolean", default: false } } });
const purpose = (positionals[0] ?? "test") as Purpose;
if (!PURPOSES.includes(purpose) || positionals.length > 1) {
  process.stderr.write(`prereqs: unknown purpose "${positionals.join(" ")}"\n\n${USAGE}`);
  process.exit(2);
}
const say = (s: string) => process.stderr.write(`[prereqs] ${s}\n`);
let report = await checkPrereqs(purpose);
if (report.root && report.linux && report.missing.length > 0 && values.install) {
  await installMissing(report, say);
  report = await checkPrereqs(purpose);
}
const problem = describeMissing(report, purpose === "test" ? "" : "--install");
if (problem) {
  say(problem);
  process.exit(2);
}
