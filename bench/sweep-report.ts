// The capacity sweep's result model, its knee and its rendering (npm run bench:sweep). Pure: golden-tested.
// A path's knee is the highest offered rate it still carries before it saturates: at least 97 % of the
// offered rate achieved, no errors, and p99 under the latency budget. Past saturation a backlog builds and
// the tail grows without bound. A lone p99 spike below saturation (a GC pause, a noisy neighbour in a
// few-second step) does not hide the rates carried above it; every step stays in the report.
import type { LoadResult } from "../mesh/measure/index.ts";

export interface SweepStep {
  offered: number;
  result: LoadResult;
}

export interface SweepSeries {
  path: string;
  connections: number;
  steps: SweepStep[];
}

export interface SweepResult {
  scenario: { rates: number[]; connections: number[]; durationSeconds: number; warmupSeconds: number; payloadBytes: number; p99BudgetMs: number };
  machine: { cpus: number; node: string; kernel: string; date: string };
  /** How CPUs were shared, e.g. "load generator on CPU 1; proxies and servers on CPU 0", or "not pinned". */
  pinning: string;
  series: SweepSeries[];
}

/** Whether a step carried its offered load within the budget. */
export function carried(step: SweepStep, p99BudgetMs: number): boolean {
  return step.result.errors === 0 && step.result.achievedRate >= 0.97 * step.offered && step.result.latencyMs.p99 <= p99BudgetMs;
}

/** The highest offered rate carried, among the steps below the first saturated one. */
export function knee(steps: SweepStep[], p99BudgetMs: number): number | undefined {
  let best: number | undefined;
  for (const s of [...steps].sort((a, b) => a.offered - b.offered)) {
    if (saturated(s)) break;
    if (carried(s, p99BudgetMs)) best = s.offered;
  }
  return best;
}

/** Whether to try the next rate: stop once a step falls well short (saturated), to save the machine. */
export function saturated(step: SweepStep): boolean {
  return step.result.achievedRate < 0.9 * step.offered || step.result.errors > step.result.requests * 0.01;
}

export function renderSweepMarkdown(r: SweepResult): string {
  const s = r.scenario;
  const lines = [
    `# capacity sweep`,
    ``,
    `Offered ${s.rates.join(", ")} req/s (open loop, stopping at saturation) over ${s.connections.join(" and ")} HTTP/1.1 connections, ` +
      `${s.warmupSeconds}+${s.durationSeconds} s per step, ${s.payloadBytes} B responses; knee: the highest rate carried ` +
      `(>= 97 % achieved, no errors, p99 <= ${s.p99BudgetMs} ms). ${r.machine.cpus} CPUs (${r.pinning}), Node ${r.machine.node}, ` +
      `Linux ${r.machine.kernel}, ${r.machine.date}.`,
    ``,
    `| path | connections | knee req/s | offered -> achieved req/s, p50 / p99 ms |`,
    `|---|---|---|---|`,
  ];
  for (const x of r.series) {
    const k = knee(x.steps, s.p99BudgetMs);
    // Carried up to the highest rate offered: the knee lies beyond what the scenario asked.
    const top = k !== undefined && k === Math.max(...s.rates) ? `>= ${k}` : k;
    const steps = x.steps.map((st) => `${st.offered} -> ${st.result.achievedRate}, ${st.result.latencyMs.p50} / ${st.result.latencyMs.p99}`).join("; ");
    lines.push(`| ${x.path} | ${x.connections} | ${top ?? `below ${x.steps[0]?.offered ?? "?"}`} | ${steps} |`);
  }
  return lines.join("\n") + "\n";
}
