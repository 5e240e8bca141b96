// The report's pages: each chart drawn to SVG by Vega (no browser, no canvas, no network), then one
// self-contained HTML page (inline SVG and CSS, no script, so it reads without JavaScript and offline)
// and the same content as Markdown tables for terminals.
import * as vega from "vega";
import { compile } from "vega-lite";
import type { Chart } from "./charts.ts";

export interface RenderedChart extends Chart {
  svg: string;
}

export async function renderSvg(chart: Chart): Promise<RenderedChart> {
  const view = new vega.View(vega.parse(compile(chart.spec).spec), { renderer: "none" });
  const svg = await view.toSVG();
  view.finalize();
  return { ...chart, svg };
}

const escape = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

function htmlTable(t: Chart["table"]): string {
  const row = (cells: string[], tag: "th" | "td") => `<tr>${cells.map((c) => `<${tag}>${escape(c)}</${tag}>`).join("")}</tr>`;
  return `<table><thead>${row(t.header, "th")}</thead><tbody>${t.rows.map((r) => row(r, "td")).join("")}</tbody></table>`;
}

export function renderHtml(o: { title: string; generated: string; sources: string[]; charts: RenderedChart[] }): string {
  const sections = o.charts
    .map(
      (c) => `<section id="${escape(c.id)}">
<h2>${escape(c.title)}</h2>
<figure>${c.svg}<figcaption>${escape(c.caption)}</figcaption></figure>
<details><summary>figures</summary>${htmlTable(c.table)}</details>
</section>`,
    )
    .join("\n");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escape(o.title)}</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 900px; margin: 2em auto; padding: 0 1em; color: #222; }
h1 { font-size: 1.6em; } h2 { font-size: 1.2em; margin-top: 2em; }
figure { margin: 0; } figcaption { color: #555; font-size: 0.9em; margin-top: 0.4em; }
table { border-collapse: collapse; font-size: 0.9em; margin-top: 0.5em; } th, td { border: 1px solid #ccc; padding: 2px 8px; text-align: left; }
</style>
</head>
<body>
<h1>${escape(o.title)}</h1>
<p>Generated ${escape(o.generated)} from: ${o.sources.map(escape).join(", ") || "no results"}.</p>
${sections || "<p>No benchmark results yet: run <code>sudo npm run bench:ztunnel</code>, <code>bench:waypoint</code>, <code>bench:sweep</code> or <code>bench:fleet</code>.</p>"}
</body>
</html>
`;
}

export function renderReportMarkdown(o: { title: string; generated: string; sources: string[]; charts: Chart[] }): string {
  const table = (t: Chart["table"]) =>
    [`| ${t.header.join(" | ")} |`, `|${t.header.map(() => "---").join("|")}|`, ...t.rows.map((r) => `| ${r.join(" | ")} |`)].join("\n");
  // Charts sharing one table (CPU and memory of the same runs) print it once.
  const seen = new Set<string>();
  const parts = o.charts.flatMap((c) => {
    const t = table(c.table);
    const body = seen.has(t) ? [] : [t, ""];
    seen.add(t);
    return [`## ${c.title}`, "", c.caption, "", ...body];
  });
  return [`# ${o.title}`, "", `Generated ${o.generated} from: ${o.sources.join(", ") || "no results"}.`, "", ...parts].join("\n");
}
