// The soak's result model, its verdict and its Markdown rendering: pure, golden-tested.

export interface SoakSample {
  /** Seconds since the load started. */
  t: number;
  rssMb: number;
  fds: number;
}

export interface SoakProcess {
  name: string;
  samples: SoakSample[];
}

export interface SoakPath {
  name: string;
  url: string;
  requests: number;
  errors: number;
  achievedRate: number;
  p50Ms: number;
  p99Ms: number;
}

export interface SoakResult {
  scenario: { minutes: number; ratePerPath: number; intervalSeconds: number };
  machine: { cpus: number; node: string; kernel: string; date: string };
  paths: SoakPath[];
  processes: Array<SoakProcess & { verdict: Verdict }>;
  verdict: "flat" | "growing";
}

export interface Verdict {
  verdict: "flat" | "growing";
  /** Mean RSS of the last third minus that of the first third (after warm-up), MB. */
  rssGrowthMb: number;
  fdGrowth: number;
  reason: string;
}

/** RSS may wander by this much (GC, allocator) without counting as growth. */
export const RSS_TOLERANCE = { mb: 15, fraction: 0.15 };
/** Pooled connections come and go; more than this many extra fds is growth. */
export const FD_TOLERANCE = 8;

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);

/**
 * Flat or growing: the first sample (warm-up) is skipped, the rest split in thirds, and the last third's
 * mean RSS and fds compared with the first third's. Growth beyond the tolerances in either is "growing".
 */
export function verdictOf(samples: readonly SoakSample[]): Verdict {
  const s = samples.slice(1);
  if (s.length < 3) return { verdict: "flat", rssGrowthMb: 0, fdGrowth: 0, reason: "too few samples to see a trend" };
  const third = Math.max(1, Math.floor(s.length / 3));
  const first = s.slice(0, third);
  const last = s.slice(-third);
  const rssFirst = mean(first.map((x) => x.rssMb));
  const rssGrowthMb = mean(last.map((x) => x.rssMb)) - rssFirst;
  const fdGrowth = mean(last.map((x) => x.fds)) - mean(first.map((x) => x.fds));
  const rssLimit = Math.max(RSS_TOLERANCE.mb, rssFirst * RSS_TOLERANCE.fraction);
  const reasons = [
    ...(rssGrowthMb > rssLimit ? [`RSS grew ${rssGrowthMb.toFixed(1)} MB (more than ${rssLimit.toFixed(1)})`] : []),
    ...(fdGrowth > FD_TOLERANCE ? [`fds grew by ${fdGrowth.toFixed(1)} (more than ${FD_TOLERANCE})`] : []),
  ];
  return {
    verdict: reasons.length ? "growing" : "flat",
    rssGrowthMb: round(rssGrowthMb),
    fdGrowth: round(fdGrowth),
    reason: reasons.length ? reasons.join("; ") : `RSS within ${rssLimit.toFixed(1)} MB and fds within ${FD_TOLERANCE} of the first third`,
  };
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}

export function renderSoakMarkdown(r: SoakResult): string {
  const lines = [
    `# Soak: ${r.verdict.toUpperCase()}`,
    "",
    `${r.scenario.minutes} min at ${r.scenario.ratePerPath} req/s on each path, sampled every ${r.scenario.intervalSeconds} s (${r.machine.cpus} CPUs, Node ${r.machine.node}, kernel ${r.machine.kernel}, ${r.machine.date}).`,
    "",
    "| path | requests | errors | achieved req/s | p50 ms | p99 ms |",
    "|---|---|---|---|---|---|",
    ...r.paths.map((p) => `| ${p.name} | ${p.requests} | ${p.errors} | ${p.achievedRate} | ${p.p50Ms} | ${p.p99Ms} |`),
    "",
    "| process | RSS first -> last MB | fds first -> last | growth RSS MB / fds | verdict |",
    "|---|---|---|---|---|",
    ...r.processes.map((p) => {
      const a = p.samples[1] ?? p.samples[0];
      const z = p.samples.at(-1);
      return `| ${p.name} | ${a ? a.rssMb.toFixed(1) : "-"} -> ${z ? z.rssMb.toFixed(1) : "-"} | ${a?.fds ?? "-"} -> ${z?.fds ?? "-"} | ${p.verdict.rssGrowthMb} / ${p.verdict.fdGrowth} | ${p.verdict.verdict}: ${p.verdict.reason} |`;
    }),
    "",
  ];
  return lines.join("\n");
}
