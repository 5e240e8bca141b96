// Reads Prometheus text exposition (what /metrics answers) into samples, to check counters by label.
// Only what `verify` needs: sample lines with labels and a value; comments and malformed lines are skipped.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?/y;

function unescape(v: string): string {
  return v.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));
}

function parseLabels(text: string): Record<string, string> | undefined {
  const labels: Record<string, string> = {};
  LABEL.lastIndex = 0;
  while (LABEL.lastIndex < text.length) {
    const start = LABEL.lastIndex;
    const m = LABEL.exec(text);
    if (!m) return text.slice(start).trim() === "" ? labels : undefined;
    labels[m[1]!] = unescape(m[2]!);
  }
  return labels;
}

export function parseSamples(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const m = LINE.exec(line);
    if (!m) continue;
    const labels = m[2] === undefined ? {} : parseLabels(m[2]);
    const value = Number(m[3]);
    if (!labels || Number.isNaN(value)) continue;
    samples.push({ name: m[1]!, labels, value });
  }
  return samples;
}

/** The sum of a metric's samples whose labels include every pair in `match`. */
export function sumWhere(samples: readonly Sample[], name: string, match: Record<string, string>): number {
  let total = 0;
  for (const s of samples) {
    if (s.name !== name) continue;
    if (Object.entries(match).every(([k, v]) => s.labels[k] === v)) total += s.value;
  }
  return total;
}
