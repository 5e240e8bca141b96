#!/usr/bin/env node
// npm's pretest hook: the test suite creates network namespaces, nftables rules and real processes,
// so it needs root and a few Debian tools. As root with apt-get, missing tools are installed;
// otherwise this stops with the command that fixes it.
import { checkPrereqs, describeMissing, installMissing, type Purpose } from "../mesh/local/prereqs.ts";

const purpose = (process.argv[2] ?? "test") as Purpose;
const say = (s: string) => process.stderr.write(`[prereqs] ${s}\n`);
let report = await checkPrereqs(purpose);
if (report.root && report.linux && report.missing.length > 0 && process.argv.includes("--install")) {
  await installMissing(report, say);
  report = await checkPrereqs(purpose);
}
const problem = describeMissing(report, purpose === "test" ? "" : "--install-deps");
if (problem) {
  say(problem);
  process.exit(2);
}
