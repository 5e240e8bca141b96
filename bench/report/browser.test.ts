// The report in a real browser (Debian's chromium-headless-shell, installed by the pretest hook): the
// page from fixture results is opened from a file with no network, and its screenshot must show every
// chart drawn. The check compares the page with the same page stripped of its SVG: Vega's category
// colours (the bars and lines) appear only where the browser drew the charts.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { PNG } from "pngjs";
import { afterAll, describe, expect, it } from "vitest";
import { reportCharts } from "./charts.ts";
import { readInputs } from "./inputs.ts";
import { renderHtml, renderSvg } from "./render.ts";

const run = promisify(execFile);
const BROWSER = "chromium-headless-shell";
const dir = mkdtempSync(join(tmpdir(), "al-report-browser-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Vega-Lite's first two category colours (tableau10): every chart here draws with them. */
const PALETTE = [
  [0x4c, 0x78, 0xa8],
  [0xf5, 0x85, 0x18],
];

/** Opens `html` from a file; a fresh profile per run, in the test's directory, removed with it. */
async function browse(html: string, name: string, args: string[]): Promise<string> {
  const page = join(dir, `${name}.html`);
  writeFileSync(page, html);
  const flags = ["--no-sandbox", "--disable-gpu", `--user-data-dir=${join(dir, `profile-${name}`)}`, ...args];
  return (await run(BROWSER, [...flags, pathToFileURL(page).href], { timeout: 60_000, maxBuffer: 16 << 20 })).stdout;
}

async function screenshot(html: string, name: string): Promise<PNG> {
  const png = join(dir, `${name}.png`);
  await browse(html, name, ["--window-size=1000,4200", `--screenshot=${png}`]);
  return PNG.sync.read(readFileSync(png));
}

/** Pixels in the palette's colours (solid fills and strokes; anti-aliased edges are not counted). */
function palettePixels(img: PNG): number {
  let n = 0;
  for (let i = 0; i < img.data.length; i += 4) {
    const [r, g, b] = [img.data[i]!, img.data[i + 1]!, img.data[i + 2]!];
    if (PALETTE.some(([pr, pg, pb]) => Math.abs(r - pr!) <= 2 && Math.abs(g - pg!) <= 2 && Math.abs(b - pb!) <= 2)) n++;
  }
  return n;
}

describe("the report in a browser", () => {
  it("parses and draws every chart (a screenshot of each, against the page without its SVG)", async () => {
    const { inputs, sources } = await readInputs(join(import.meta.dirname, "../testdata/report"));
    // With an earlier run of the same benchmark, so the side-by-side charts are drawn too.
    const earlier = inputs.runs![0]!;
    inputs.runs!.push({ ...earlier, environment: { ...earlier.environment, date: "2026-11-01" } });
    const charts = await Promise.all(reportCharts(inputs).map(renderSvg));
    expect(charts.length).toBe(8);
    const html = renderHtml({ title: "ambient-lab benchmark report", generated: "2026-11-30 21:00 UTC", sources, charts });
    const dom = await browse(html, "dom", ["--dump-dom"]);
    // The browser parsed one SVG element per chart, with its axis titles as text.
    expect(dom.match(/<svg[\s>]/g)).toHaveLength(charts.length);
    expect(dom).toContain("proxy PSS per pod (MB)");
    const page = { title: "ambient-lab benchmark report", generated: "2026-11-30 21:00 UTC", sources };
    expect(palettePixels(await screenshot(html.replace(/<svg[\s\S]*?<\/svg>/g, ""), "bare"))).toBe(0);
    // Each chart alone on the page: the browser drew its marks (a line chart's two lines are ~1,300
    // pixels of the palette, a bar chart's bars 10,000 and more).
    for (const c of charts) {
      const n = palettePixels(await screenshot(renderHtml({ ...page, charts: [c] }), c.id));
      expect(n, `${c.id}: ${n} pixels drawn in the palette`).toBeGreaterThan(500);
    }
  }, 120_000);
});
