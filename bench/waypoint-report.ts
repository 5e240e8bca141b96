// The mesh-modes benchmark's result model and rendering (npm run bench:waypoint). Pure: golden-tested.
// Istio's published figures at 1000 HTTP req/s with 1 KB: Envoy waypoint ~0.25 vCPU and 60 MB, Envoy
// sidecar ~0.20 vCPU and 60 MB (each); ours are compared with them.
import type { LoadResult } from "../mesh/measure/index.ts";
import { median, medianLoad } from "./median.ts";
import type { Target } from "./report.ts";

export interface WaypointBenchResult {
  /** `rounds` when the figures are medians of that many rounds (absent: one round). */
  scenario: { rate: number; connections: number; durationSeconds: number; payloadBytes: number; rounds?: number };
  machine: { cpus: number; node: string; kernel: string; date: string };
  direct: LoadResult;
  ambient: LoadResult;
  waypoint: LoadResult;
  /** The waypoint process during the waypoint run: vCPU per 1000 req/s, resident memory after it. */
  waypointProxy: { cpuPer1000Requests: number; rssMb: number; peakRssMb: number };
  /** The same load in the sidecar mode (a proxy beside the client and beside the server). */
  sidecar?: LoadResult;
  sidecarProxies?: Array<{ pod: string; cpuPer1000Requests: number; rssMb: number }>;
  /**
   * The floor (bench/floor-waypoint.ts): the same load through a waypoint that is our HTTP/2, node:http
   * and undici and nothing else, between two floor relays standing in for the ztunnels.
   */
  floor?: FloorWaypoint;
  /** Unary gRPC Echo calls (1 KB) at the same rate: through the ztunnels alone, and through the waypoint. */
  grpc?: GrpcPaths;
  /** Every round's own figures, when there was more than one. */
  rounds?: WaypointRound[];
}

export interface GrpcPaths {
  ambient: LoadResult;
  waypoint: LoadResult;
  waypointProxy: { cpuPer1000Requests: number; rssMb: number; peakRssMb: number };
}

export interface FloorWaypoint {
  load: LoadResult;
  proxy: { cpuPer1000Requests: number; rssMb: number; peakRssMb: number };
}

export type WaypointRound = Required<Pick<WaypointBenchResult, "direct" | "ambient" | "waypoint" | "waypointProxy" | "sidecar" | "sidecarProxies">> &
  Pick<WaypointBenchResult, "floor" | "grpc">;

/** Medians of the rounds (bench/median.ts); the waypoint's peak is the highest. */
export function medianWaypointRounds(rounds: readonly WaypointRound[]): WaypointRound {
  const load = (f: (r: WaypointRound) => LoadResult) => medianLoad(rounds.map(f));
  const floors = rounds.flatMap((r) => (r.floor ? [r.floor] : []));
  const grpcs = rounds.flatMap((r) => (r.grpc ? [r.grpc] : []));
  return {
    ...(grpcs.length === rounds.length
      ? {
          grpc: {
            ambient: medianLoad(grpcs.map((g) => g.ambient)),
            waypoint: medianLoad(grpcs.map((g) => g.waypoint)),
            waypointProxy: {
              cpuPer1000Requests: median(grpcs.map((g) => g.waypointProxy.cpuPer1000Requests)),
              rssMb: median(grpcs.map((g) => g.waypointProxy.rssMb)),
              peakRssMb: Math.max(...grpcs.map((g) => g.waypointProxy.peakRssMb)),
            },
          },
        }
      : {}),
    ...(floors.length === rounds.length
      ? {
          floor: {
            load: medianLoad(floors.map((f) => f.load)),
            proxy: {
              cpuPer1000Requests: median(floors.map((f) => f.proxy.cpuPer1000Requests)),
              rssMb: median(floors.map((f) => f.proxy.rssMb)),
              peakRssMb: Math.max(...floors.map((f) => f.proxy.peakRssMb)),
            },
          },
        }
      : {}),
    direct: load((r) => r.direct),
    ambient: load((r) => r.ambient),
    waypoint: load((r) => r.waypoint),
    sidecar: load((r) => r.sidecar),
    waypointProxy: {
      cpuPer1000Requests: median(rounds.map((r) => r.waypointProxy.cpuPer1000Requests)),
      rssMb: median(rounds.map((r) => r.waypointProxy.rssMb)),
      peakRssMb: Math.max(...rounds.map((r) => r.waypointProxy.peakRssMb)),
    },
    sidecarProxies: rounds[0]!.sidecarProxies.map((p, i) => ({
      pod: p.pod,
      cpuPer1000Requests: median(rounds.map((r) => r.sidecarProxies[i]!.cpuPer1000Requests)),
      rssMb: median(rounds.map((r) => r.sidecarProxies[i]!.rssMb)),
    })),
  };
}

const r3 = (n: number) => Math.round(n * 1000) / 1000;

/**
 * Issue 12's targets for the waypoint and the sidecar proxy: waypoint <= 0.30 vCPU per 1000 req/s and
 * <= +10 ms added p99 over the ztunnels alone; each sidecar proxy <= 0.12 vCPU and <= 65 MB.
 */
export function evaluateWaypointTargets(r: WaypointBenchResult): Target[] {
  const added99 = r3(r.waypoint.latencyMs.p99 - r.ambient.latencyMs.p99);
  const out: Target[] = [
    {
      name: "waypoint CPU per 1000 req/s",
      target: "<= 0.30 vCPU",
      value: `${r3(r.waypointProxy.cpuPer1000Requests)} vCPU`,
      met: r.waypointProxy.cpuPer1000Requests <= 0.3,
    },
    { name: "waypoint added p99", target: "<= 10 ms", value: `${added99} ms`, met: added99 <= 10 },
  ];
  if (r.sidecarProxies?.length) {
    const cpu = Math.max(...r.sidecarProxies.map((p) => p.cpuPer1000Requests));
    const rss = Math.max(...r.sidecarProxies.map((p) => p.rssMb));
    out.push(
      { name: "sidecar proxy CPU per 1000 req/s", target: "<= 0.12 vCPU", value: `${r3(cpu)} vCPU`, met: cpu <= 0.12 },
      { name: "sidecar proxy RSS", target: "<= 65 MB", value: `${r3(rss)} MB`, met: rss <= 65 },
    );
  }
  return out;
}

export function renderWaypointJson(r: WaypointBenchResult): string {
  return JSON.stringify({ ...r, targets: evaluateWaypointTargets(r) }, null, 2) + "\n";
}

export function renderWaypointMarkdown(r: WaypointBenchResult): string {
  const s = r.scenario;
  const row = (name: string, l: LoadResult) =>
    `| ${name} | ${l.latencyMs.p50} | ${l.latencyMs.p90} | ${l.latencyMs.p99} | ${l.latencyMs.max} | ${l.achievedRate} | ${l.errors} |`;
  const added = (a: LoadResult, b: LoadResult) =>
    `| added by the waypoint | ${r3(a.latencyMs.p50 - b.latencyMs.p50)} | ${r3(a.latencyMs.p90 - b.latencyMs.p90)} | ${r3(a.latencyMs.p99 - b.latencyMs.p99)} | | | |`;
  const w = r.waypointProxy;
  const f = r.floor;
  return [
    `# waypoint benchmark`,
    ``,
    `${s.rate} req/s (open loop) over ${s.connections} HTTP/1.1 connections for ${s.durationSeconds} s, ${s.payloadBytes} B responses; ` +
      `${r.machine.cpus} CPUs, Node ${r.machine.node}, Linux ${r.machine.kernel}, ${r.machine.date}.` +
      (s.rounds ? ` Medians of ${s.rounds} rounds (each path once per round, interleaved; the peak is the highest).` : ""),
    ``,
    `| path | p50 ms | p90 ms | p99 ms | max ms | achieved req/s | errors |`,
    `|---|---|---|---|---|---|---|`,
    row("direct (no mesh)", r.direct),
    row("ambient L4 (two ztunnels)", r.ambient),
    ...(r.sidecar ? [row("sidecar (a proxy in each pod)", r.sidecar)] : []),
    row("ambient + waypoint (L7)", r.waypoint),
    added(r.waypoint, r.ambient),
    ...(f ? [row("floor waypoint (our HTTP/2, node:http, undici; floor relays for the ztunnels)", f.load)] : []),
    ``,
    ...(r.grpc
      ? [
          `gRPC: unary Echo calls with a 1 KB message, ${s.rate} calls/s over ${s.connections} HTTP/2 connections:`,
          ``,
          `| path | p50 ms | p90 ms | p99 ms | max ms | achieved calls/s | errors |`,
          `|---|---|---|---|---|---|---|`,
          row("ambient L4 (two ztunnels)", r.grpc.ambient),
          row("ambient + waypoint (L7)", r.grpc.waypoint),
          added(r.grpc.waypoint, r.grpc.ambient),
          ``,
          `Waypoint during the gRPC run: ${r3(r.grpc.waypointProxy.cpuPer1000Requests)} vCPU per 1000 calls/s, RSS ${r3(r.grpc.waypointProxy.rssMb)} MB (peak ${r3(r.grpc.waypointProxy.peakRssMb)}).`,
          ``,
        ]
      : []),
    `| waypoint | measured | ${f ? "floor waypoint | " : ""}Istio's Envoy waypoint (published) |`,
    `|---|---|${f ? "---|" : ""}---|`,
    `| vCPU per 1000 req/s | ${r3(w.cpuPer1000Requests)} | ${f ? `${r3(f.proxy.cpuPer1000Requests)} | ` : ""}~0.25 |`,
    `| RSS after the load MB | ${r3(w.rssMb)} | ${f ? `${r3(f.proxy.rssMb)} | ` : ""}~60 |`,
    `| peak RSS MB | ${r3(w.peakRssMb)} | ${f ? `${r3(f.proxy.peakRssMb)} | ` : ""}|`,
    ``,
    ...(r.sidecarProxies?.length
      ? [
          `| sidecar proxy | vCPU per 1000 req/s | RSS MB | Istio's Envoy sidecar (published) |`,
          `|---|---|---|---|`,
          ...r.sidecarProxies.map((p) => `| ${p.pod} | ${r3(p.cpuPer1000Requests)} | ${r3(p.rssMb)} | ~0.20 vCPU, ~60 MB |`),
          ``,
        ]
      : []),
    ...(r.rounds
      ? [
          `| round | waypoint vCPU | waypoint added p50 / p90 / p99 ms | sidecar proxy vCPU (worst) |${f ? " floor waypoint vCPU |" : ""}`,
          `|---|---|---|---|${f ? "---|" : ""}`,
          ...r.rounds.map(
            (x, i) =>
              `| ${i + 1} | ${r3(x.waypointProxy.cpuPer1000Requests)} | ` +
              `${r3(x.waypoint.latencyMs.p50 - x.ambient.latencyMs.p50)} / ${r3(x.waypoint.latencyMs.p90 - x.ambient.latencyMs.p90)} / ` +
              `${r3(x.waypoint.latencyMs.p99 - x.ambient.latencyMs.p99)} | ${r3(Math.max(...x.sidecarProxies.map((p) => p.cpuPer1000Requests)))} |` +
              (f && x.floor ? ` ${r3(x.floor.proxy.cpuPer1000Requests)} |` : ""),
          ),
          ``,
        ]
      : []),
    `| target | wanted | measured | met |`,
    `|---|---|---|---|`,
    ...evaluateWaypointTargets(r).map((t) => `| ${t.name} | ${t.target} | ${t.value} | ${t.met ? "yes" : "no"} |`),
    ``,
  ].join("\n");
}
