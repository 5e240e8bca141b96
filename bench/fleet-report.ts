// The fleet benchmark's result model and rendering (npm run bench:fleet). Pure: golden-tested. The
// headline is what the mesh costs per application pod as the number of pods on a node grows: in the
// sidecar mode a proxy per pod, in ambient one ztunnel per node, whatever the pod count.
import type { LoadResult } from "../mesh/measure/index.ts";

export type FleetMode = "ambient" | "sidecar";

export interface FleetPoint {
  mode: FleetMode;
  /** Application pods on the measured node. */
  pods: number;
  /** The mesh's proxies on that node, idle: resident and proportional set size (shared pages split). */
  idle: { proxies: number; rssMb: number; pssMb: number; rssMbPerPod: number; pssMbPerPod: number };
  /** Under the scenario's load to all the pods: the proxies' CPU, and their memory after it. */
  loaded: { load: LoadResult; cpuPer1000Requests: number; rssMb: number; pssMbPerPod: number };
  /** One more pod added to the running cluster: until its application answers through the mesh. */
  startToReadyMs: number;
}

export interface FleetBenchResult {
  scenario: { podCounts: number[]; rate: number; connections: number; durationSeconds: number; payloadBytes: number };
  machine: { cpus: number; node: string; kernel: string; date: string };
  points: FleetPoint[];
}

const r1 = (n: number) => Math.round(n * 10) / 10;
const r3 = (n: number) => Math.round(n * 1000) / 1000;

export function renderFleetJson(r: FleetBenchResult): string {
  return `${JSON.stringify(r, null, 2)}\n`;
}

/** The cost per pod in each mode at each count, and the ratio sidecar / ambient. */
export function fleetHeadline(r: FleetBenchResult): Array<{ pods: number; ambientPssMbPerPod: number; sidecarPssMbPerPod: number; ratio: number }> {
  const at = (mode: FleetMode, pods: number) => r.points.find((p) => p.mode === mode && p.pods === pods);
  return r.scenario.podCounts.flatMap((pods) => {
    const a = at("ambient", pods);
    const s = at("sidecar", pods);
    if (!a || !s) return [];
    return [
      { pods, ambientPssMbPerPod: r1(a.idle.pssMbPerPod), sidecarPssMbPerPod: r1(s.idle.pssMbPerPod), ratio: r1(s.idle.pssMbPerPod / a.idle.pssMbPerPod) },
    ];
  });
}

export function renderFleetMarkdown(r: FleetBenchResult): string {
  const s = r.scenario;
  const lines = [
    "# Fleet benchmark: the mesh's cost per pod as pods per node grow",
    "",
    `${r.machine.cpus} vCPUs, Node ${r.machine.node}, kernel ${r.machine.kernel}, ${r.machine.date}. Application pods (nginx, ${s.payloadBytes} B responses) on one node, ` +
      `in ambient mode (the node's ztunnel) and in sidecar mode (a proxy per pod); load: ${s.rate} req/s in total over ${s.connections} connections for ${s.durationSeconds} s, ` +
      "spread over the pods by their Service. Proxy memory is per node; PSS splits pages the proxies share (Node's code) between them.",
    "",
    "| mode | pods | proxies | idle RSS MB | idle PSS MB | PSS MB per pod | vCPU per 1000 req/s | p50 / p99 ms | start to ready ms |",
    "|---|---|---|---|---|---|---|---|---|",
    ...r.points.map(
      (p) =>
        `| ${p.mode} | ${p.pods} | ${p.idle.proxies} | ${r1(p.idle.rssMb)} | ${r1(p.idle.pssMb)} | ${r1(p.idle.pssMbPerPod)} | ${r3(p.loaded.cpuPer1000Requests)} | ${r3(p.loaded.load.latencyMs.p50)} / ${r3(p.loaded.load.latencyMs.p99)} | ${Math.round(p.startToReadyMs)} |`,
    ),
    "",
    "Memory the mesh costs per application pod (idle PSS):",
    "",
    "| pods per node | ambient MB per pod | sidecar MB per pod | sidecar / ambient |",
    "|---|---|---|---|",
    ...fleetHeadline(r).map((h) => `| ${h.pods} | ${h.ambientPssMbPerPod} | ${h.sidecarPssMbPerPod} | ${h.ratio}x |`),
    "",
  ];
  return lines.join("\n");
}
