// Pure: a local benchmark's result as a benchmark run (mesh/manifests/bench-run.ts), the shape the
// Kubernetes stack output has too, so the report and CI put local and cluster runs side by side.
// Each figure is copied or derived, never estimated: a proxy the benchmark did not measure is null.
import { BENCH_RUN_SCHEMA, type BenchRun, type ModeRun, parseBenchRun, type ProxyCost, proxyCost } from "../mesh/manifests/index.ts";
import type { LoadResult } from "../mesh/measure/index.ts";
import type { ZtunnelBenchResult } from "./report.ts";
import type { WaypointBenchResult } from "./waypoint-report.ts";

function modeRun(rate: number, l: LoadResult, proxies: ProxyCost): ModeRun {
  const all = l.requests + l.errors;
  return {
    requestedRate: rate,
    achievedRate: l.achievedRate,
    requests: all,
    errorRate: all === 0 ? 0 : l.errors / all,
    latencyMs: { p50: l.latencyMs.p50, p90: l.latencyMs.p90, p99: l.latencyMs.p99, max: l.latencyMs.max },
    proxies,
  };
}

const none = proxyCost([], null, 0, null);
/** Summed cores from per-proxy vCPU per 1000 req/s at the achieved rate. */
const cores = (per1000: number[], rate: number) => (per1000.reduce((a, b) => a + b, 0) * rate) / 1000;

function run(
  name: string,
  s: { rate: number; connections: number; payloadBytes: number; durationSeconds: number },
  m: { cpus: number; date: string },
  modes: BenchRun["modes"],
): BenchRun {
  const r = {
    schema: BENCH_RUN_SCHEMA,
    mesh: "ambient-lab",
    environment: { kind: "local", name, date: m.date, cpus: m.cpus },
    scenario: { rate: s.rate, connections: s.connections, payloadBytes: s.payloadBytes, durationSeconds: s.durationSeconds },
    modes,
  };
  return parseBenchRun(r, `the ${name} run`);
}

/** bench:waypoint: no mesh, ambient (ztunnels, not measured here), sidecar (its proxies), waypoint (the waypoint). */
export function waypointBenchRun(r: WaypointBenchResult): BenchRun {
  const rate = r.scenario.rate;
  const modes: BenchRun["modes"] = {
    baseline: modeRun(rate, r.direct, none),
    ambient: modeRun(rate, r.ambient, none),
  };
  if (r.sidecar && r.sidecarProxies?.length) {
    const p = r.sidecarProxies;
    const c = cores(
      p.map((x) => x.cpuPer1000Requests),
      r.sidecar.achievedRate,
    );
    modes.sidecar = modeRun(rate, r.sidecar, proxyCost(["sidecar"], c, r.sidecar.achievedRate, Math.max(...p.map((x) => x.rssMb))));
  }
  const w = r.waypointProxy;
  modes.waypoint = modeRun(rate, r.waypoint, proxyCost(["waypoint"], cores([w.cpuPer1000Requests], r.waypoint.achievedRate), r.waypoint.achievedRate, w.rssMb));
  return run("bench:waypoint", r.scenario, r.machine, modes);
}

/** bench:ztunnel: no mesh, and ambient through two ztunnels (both measured). */
export function ztunnelBenchRun(r: ZtunnelBenchResult): BenchRun {
  const rate = r.scenario.rate;
  const z = r.ztunnels;
  const c = cores(
    z.map((x) => x.cpuPer1000Requests),
    r.mesh.achievedRate,
  );
  return run("bench:ztunnel", r.scenario, r.machine, {
    baseline: modeRun(rate, r.direct, none),
    ambient: modeRun(
      rate,
      r.mesh,
      proxyCost(z.length ? ["ztunnel"] : [], z.length ? c : null, r.mesh.achievedRate, z.length ? Math.max(...z.map((x) => x.rssAfterLoadMb)) : null),
    ),
  });
}
