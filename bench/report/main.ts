#!/usr/bin/env node
// npm run report: one self-contained HTML page (results/report.html, inline SVG charts) and the same as
// Markdown (results/report.md) from whatever benchmark results exist under results/, and optionally a
// Kubernetes run's benchmark outputs (`--stack NAME` through Pulumi's automation API, or `--run F` with
// `pulumi stack output benchmarkResults --json` saved, as CI keeps it). Every run, local or not, follows
// one schema (mesh/manifests/bench-run.ts), so several are drawn side by side.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type BenchRun, parseBenchRun } from "../../mesh/manifests/index.ts";
import { scriptArgs } from "../../mesh/shared/index.ts";
import { ROOT, runMain, sayAs } from "../harness.ts";
import { reportCharts } from "./charts.ts";
import { readInputs, readRun } from "./inputs.ts";
import { renderHtml, renderReportMarkdown, renderSvg } from "./render.ts";

const say = sayAs("report");

const USAGE = `Usage: npm run report [-- --results DIR] [--out DIR] [--stack NAME]... [--run F]...
  charts of the benchmark results in DIR (default results/): bench:ztunnel, bench:waypoint, bench:sweep,
  bench:fleet and every *.run.json, whichever exist; writes report.html (self-contained) and report.md
  into --out (default DIR). Two or more runs, or one from a cluster, are drawn side by side per mode.
  --stack NAME   add a Kubernetes run: the stack's output benchmarkResults (needs the Pulumi CLI)
  --run F        add a saved run (\`pulumi stack output benchmarkResults --json > F\`, or a *.run.json)`;

async function stackResults(name: string): Promise<BenchRun> {
  const { LocalWorkspace } = await import("@pulumi/pulumi/automation/index.js");
  try {
    const stack = await LocalWorkspace.selectStack({ stackName: name, workDir: ROOT });
    const outputs = await stack.outputs();
    const r = outputs.benchmarkResults?.value as unknown;
    if (!r || typeof r !== "object" || Object.keys(r).length === 0)
      throw new Error(`stack ${name} has no benchmarkResults output yet: deploy it with benchmark modes set`);
    return parseBenchRun(r, `stack ${name}'s benchmarkResults`);
  } catch (err) {
    const msg = (err as Error).message;
    if (/ENOENT|pulumi.*not found|Could not find/i.test(msg))
      throw new Error(`the Pulumi CLI is needed to read stack ${name}: install it, or pass --run with \`pulumi stack output benchmarkResults --json\` saved`);
    throw err;
  }
}

async function main(): Promise<void> {
  const { values } = scriptArgs("report", USAGE, {
    options: {
      results: { type: "string" },
      out: { type: "string" },
      stack: { type: "string", multiple: true },
      run: { type: "string", multiple: true },
    },
  });
  const dir = values.results ?? join(ROOT, "results");
  const outDir = values.out ?? dir;
  const { inputs, sources } = await readInputs(dir);
  const runs = inputs.runs ?? [];
  for (const f of values.run ?? []) {
    runs.push(await readRun(f));
    sources.push(f);
  }
  for (const name of values.stack ?? []) {
    runs.push(await stackResults(name));
    sources.push(`stack ${name}`);
  }
  if (runs.length) inputs.runs = runs;
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
