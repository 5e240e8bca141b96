#!/usr/bin/env node
// npm run bench:waypoint: the same HTTP load four ways in one netns cluster with the control plane:
// no mesh, the ztunnels alone (L4), the sidecar mode (a proxy in each pod), and the ztunnels plus a
// waypoint (L7, an HTTPRoute on the service); unary gRPC calls through the ztunnels and through the
// waypoint (its HTTP/2 path); and, as the floor, through a waypoint that is our HTTP/2 (mesh/proxy/h2),
// node:http and undici and nothing else (bench/floor-waypoint.ts).
// Reads bench/scenarios/waypoint.yaml, prints progress, writes results/waypoint-bench.{json,md}.
import { chmod, mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { parse } from "yaml";
import { z } from "zod";
import { ClusterView, PROC, processName, type ClusterSpec } from "../mesh/local/index.ts";
import { cpuPer1000Requests, cpuSeconds, memoryMb, runLoad, type LoadResult } from "../mesh/measure/index.ts";
import { scriptArgs } from "../mesh/shared/index.ts";
import {
  benchMachine,
  NODE_OPTIONS_USAGE,
  parseEnvPairs,
  onPathsCluster,
  parseRounds,
  proxyNodeOptions,
  requireLocalCluster,
  ROOT,
  runMain,
  sayAs,
  writeResults,
} from "./harness.ts";
import { FLOOR_PORTS, floorWaypointApps } from "./floor.ts";
import { pathUrl, routeThroughWaypoint } from "./paths-topology.ts";
import { waypointBenchRun } from "./runs.ts";
import { medianWaypointRounds, renderWaypointJson, renderWaypointMarkdown, type WaypointBenchResult, type WaypointRound } from "./waypoint-report.ts";

const say = sayAs("bench");

const scenarioSchema = z.strictObject({
  name: z.string(),
  rate: z.number().positive(),
  connections: z.number().int().positive(),
  durationSeconds: z.number().positive(),
  warmupSeconds: z.number().min(0),
  payloadBytes: z.number().int().min(0),
});

const USAGE = `Usage: sudo npm run bench:waypoint [-- SCENARIO.yaml] [--rounds N] [--cpu-prof DIR] [--node-options=STR] [--proxy-env KEY=VALUE]...
  the ambient, sidecar and waypoint paths under the same load (default scenario bench/scenarios/waypoint.yaml);
  prints a table and writes results/waypoint-bench.{json,md}. Needs root.
  --rounds N       measure every path N times, interleaved, and report medians (default 1)
  --cpu-prof DIR   every proxy (ztunnels, sidecars, the waypoint) writes a V8 CPU profile of the run into
                   DIR; profiling slows them, so the figures of such a run are not comparable
  --proxy-env KEY=VALUE  one more variable of every proxy's environment (ztunnels, sidecars, the waypoint;
                   repeatable), e.g. STARTUP_EFFICIENCY=off: an experiment, as --node-options is
${NODE_OPTIONS_USAGE}`;

async function main(): Promise<void> {
  const { values, positionals } = scriptArgs("bench:waypoint", USAGE, {
    options: {
      "cpu-prof": { type: "string" },
      "node-options": { type: "string" },
      "proxy-env": { type: "string", multiple: true },
      rounds: { type: "string", default: "1" },
    },
    allowPositionals: true,
  });
  const proxyEnv = parseEnvPairs("bench:waypoint", "proxy-env", values["proxy-env"]);
  const profileDir = values["cpu-prof"];
  const roundCount = parseRounds("bench:waypoint", values.rounds);
  await requireLocalCluster("bench:waypoint");
  const s = scenarioSchema.parse(parse(await readFile(positionals[0] ?? join(ROOT, "bench/scenarios/waypoint.yaml"), "utf8")));
  const adjust = async (spec: ClusterSpec) => {
    if (profileDir) {
      await mkdir(profileDir, { recursive: true });
      // The waypoint runs as its pod's user: it must be able to write there.
      await chmod(profileDir, 0o1777);
    }
    const profile = { ...proxyNodeOptions({ cpuProfDir: profileDir, nodeOptions: values["node-options"] }), ...proxyEnv };
    spec.ztunnelEnv = { ...spec.ztunnelEnv, ...profile };
    spec.waypointEnv = { ...spec.waypointEnv, ...profile };
    // The floor: floor-wp/out beside the client, floor-wp/l7 beside the waypoint, floor-wp/in beside the server.
    const floorPods = { out: "node-1", l7: "node-1", in: "node-2" } as const;
    for (const [name, node] of Object.entries(floorPods)) spec.pods.push({ namespace: "floor-wp", name, node, serviceAccount: name, ambient: false });
    const plan = new ClusterView(spec);
    const apps = await floorWaypointApps(join(spec.workDir, "floor"), {
      outIp: plan.pod("floor-wp/out").ip,
      l7Ip: plan.pod("floor-wp/l7").ip,
      inIp: plan.pod("floor-wp/in").ip,
      http: { ip: plan.pod("plain/server").ip, port: 8080 },
    });
    for (const p of spec.pods) if (p.namespace === "floor-wp") p.app = apps[p.name as keyof typeof floorPods];
  };
  await onPathsCluster({ prefix: "al-w", payloadBytes: s.payloadBytes, say, adjust }, async (cluster) => {
    await routeThroughWaypoint(cluster);
    const url = (svc: string, port?: number) => pathUrl(cluster, svc, port);
    const run = async (name: string, pod: string, target: string, protocol?: "grpc"): Promise<LoadResult> => {
      say(`${name}: ${s.rate} req/s for ${s.warmupSeconds}+${s.durationSeconds} s`);
      const out = await runLoad(cluster, pod, target, { ...s, ...(protocol ? { protocol } : {}) });
      if (out.errors > 0) say(`  ${out.errors} errors (first: ${out.firstError ?? "?"})`);
      return out;
    };
    const total = s.rate * (s.durationSeconds + s.warmupSeconds);
    const scPods = ["legacy/client", "legacy/server"];
    const scPids = scPods.map((p) => cluster.processes.get(processName(PROC.sidecar(p)))!.pid);
    const wpPid = cluster.processes.get("waypoint/mesh/waypoint")!.pid;
    const floorPid = cluster.processes.get(processName(PROC.app("floor-wp/l7")))!.pid;
    const floorUrl = `http://${cluster.pod("floor-wp/out").ip}:${FLOOR_PORTS.http}/`;
    const rounds: WaypointRound[] = [];
    for (let round = 1; round <= roundCount; round++) {
      if (roundCount > 1) say(`round ${round} of ${roundCount}`);
      const direct = await run("direct", "plain/client", url("plain/server"));
      const ambient = await run("ambient L4", "mesh/client", url("mesh/server"));
      const scBefore = await Promise.all(scPids.map((p) => cpuSeconds(p)));
      const sidecar = await run("sidecar", "legacy/client", url("legacy/server"));
      const scAfter = await Promise.all(scPids.map((p) => cpuSeconds(p)));
      const scMem = await Promise.all(scPids.map((p) => memoryMb(p)));
      const before = await cpuSeconds(wpPid);
      const waypoint = await run("ambient + waypoint", "mesh/client", url("mesh/server-wp"));
      const cpu = (await cpuSeconds(wpPid)) - before;
      const mem = await memoryMb(wpPid);
      const grpcAmbient = await run("gRPC, ambient L4", "mesh/client", url("mesh/grpc", 9090), "grpc");
      const grpcBefore = await cpuSeconds(wpPid);
      const grpcWaypoint = await run("gRPC, ambient + waypoint", "mesh/client", url("mesh/grpc-wp", 9090), "grpc");
      const grpcCpu = (await cpuSeconds(wpPid)) - grpcBefore;
      const grpcMem = await memoryMb(wpPid);
      const floorBefore = await cpuSeconds(floorPid);
      const floorLoad = await run("floor waypoint", "plain/client", floorUrl);
      const floorCpu = (await cpuSeconds(floorPid)) - floorBefore;
      const floorMem = await memoryMb(floorPid);
      rounds.push({
        floor: { load: floorLoad, proxy: { cpuPer1000Requests: cpuPer1000Requests(floorCpu, total), rssMb: floorMem.current, peakRssMb: floorMem.peak } },
        direct,
        ambient,
        waypoint,
        waypointProxy: { cpuPer1000Requests: cpuPer1000Requests(cpu, total), rssMb: mem.current, peakRssMb: mem.peak },
        sidecar,
        sidecarProxies: scPods.map((pod, i) => ({ pod, cpuPer1000Requests: cpuPer1000Requests(scAfter[i]! - scBefore[i]!, total), rssMb: scMem[i]!.current })),
        grpc: {
          ambient: grpcAmbient,
          waypoint: grpcWaypoint,
          waypointProxy: { cpuPer1000Requests: cpuPer1000Requests(grpcCpu, total), rssMb: grpcMem.current, peakRssMb: grpcMem.peak },
        },
      });
    }
    const result: WaypointBenchResult = {
      scenario: {
        rate: s.rate,
        connections: s.connections,
        durationSeconds: s.durationSeconds,
        payloadBytes: s.payloadBytes,
        ...(roundCount > 1 ? { rounds: roundCount } : {}),
      },
      machine: benchMachine(),
      ...medianWaypointRounds(rounds),
      ...(roundCount > 1 ? { rounds } : {}),
    };
    await writeResults("waypoint-bench", renderWaypointJson(result), renderWaypointMarkdown(result), say, waypointBenchRun(result));
  });
}

runMain("bench:waypoint", main);
