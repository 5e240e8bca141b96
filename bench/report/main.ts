#!/usr/bin/env node
// npm run report: one self-contained HTML page (results/report.html, inline SVG charts) and the same as
// Markdown (results/report.md) from whatever benchmark results exist under results/, and optionally a
// Kubernetes run's benchmark outputs (`--stack NAME` through Pulumi's automation API, or `--stack-file F`
// with `pulumi stack output benchmarkResults --json` saved, as CI keeps it).
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { StackBenchResult } from "../../mesh/manifests/index.ts";
import { scriptArgs } from "../../mesh/shared/index.ts";
import { ROOT, runMain, sayAs } from "../harness.ts";
import { reportCharts } from "./charts.ts";
import { readInputs } from "./inputs.ts";
import { renderHtml, renderReportMarkdown, renderSvg } from "./render.ts";

const say = sayAs("report");

const USAGE = `Usage: npm run report [-- --results DIR] [--out DIR] [--stack NAME | --stack-file F]
  charts of the benchmark results in DIR (default results/): bench:ztunnel, bench:waypoint, bench:sweep,
  bench:fleet, whichever exist; writes report.html (self-contained) and report.md into --out (default DIR).
  --stack NAME     add a Kubernetes run: the stack's output benchmarkResults (needs the Pulumi CLI)
  --stack-file F   the same from a file (\`pulumi stack output benchmarkResults --json > F\`)`;

async function stackResults(name: string): Promise<Record<string, StackBenchResult>> {
  const { LocalWorkspace } = await import("@pulumi/pulumi/automation/index.js");
  try {
    const stack = await LocalWorkspace.selectStack({ stackName: name, workDir: ROOT });
    const outputs = await stack.outputs();
    const r = outputs.benchmarkResults?.value as Record<string, StackBenchResult> | undefined;
    if (!r || Object.keys(r).length === 0) throw new Error(`stack ${name} has no benchmarkResults output yet: deploy it with benchmark modes set`);
    return r;
  } catch (err) {
    const msg = (err as Error).message;
    if (/ENOENT|pulumi.*not found|Could not find/i.test(msg))
      throw new Error(
        `the Pulumi CLI is needed to read stack ${name}: install it, or pass --stack-file with \`pulumi stack output benchmarkResults --json\` saved`,
      );
    throw err;
  }
}

async function main(): Promise<void> {
  const { values } = scriptArgs("report", USAGE, {
    options: { results: { type: "string" }, out: { type: "string" }, stack: { type: "string" }, "stack-file": { type: "string" } },
  });
  const dir = values.results ?? join(ROOT, "results");
  const outDir = values.out ?? dir;
  const { inputs, sources } = await readInputs(dir);
  if (values.stack && values["stack-file"]) throw new Error("give --stack or --stack-file, not both");
  if (values["stack-file"]) {
    inputs.stack = { name: values["stack-file"], results: JSON.parse(await readFile(values["stack-file"], "utf8")) as Record<string, StackBenchResult> };
    sources.push(values["stack-file"]);
  } else if (values.stack) {
    inputs.stack = { name: values.stack, results: await stackResults(values.stack) };
    sources.push(`stack ${values.stack}`);
  }
  const charts = reportCharts(inputs);
  say(`${charts.length} charts from ${sources.length ? sources.join(", ") : "no results"}`);
  const rendered = [];
  for (const c of charts) rendered.push(await renderSvg(c));
  const page = { title: "ambient-lab benchmark report", generated: new Date().toISOString().slice(0, 16).replace("T", " ") + " UTC", sources };
  await mkdir(outDir, { recursive: true });
  await writeFile(join(outDir, "report.html"), renderHtml({ ...page, charts: rendered }));
  await writeFile(join(outDir, "report.md"), renderReportMarkdown({ ...page, charts }));
  say(`written: ${join(outDir, "report.html")} and report.md`);
}

runMain("report", main);
