#!/usr/bin/env node
// npm run bench:ztunnel: the ztunnel data path against a direct path in the same netns topology.
// Reads bench/scenarios/ztunnel.yaml, prints progress, writes results/ztunnel-bench.{json,md}.
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { z } from "zod";
import { run } from "../mesh/shared/index.ts";
import { ClusterView, nginxApp, type ClusterPod, type ClusterSpec } from "../mesh/local/index.ts";
import { LocalCluster } from "../mesh/local/index.ts";
import { cpuPer1000Requests, cpuSeconds, memoryMb, runLoad, type LoadResult } from "../mesh/measure/index.ts";
import { bundle } from "../mesh/build.ts";
import { scriptArgs } from "../mesh/shared/index.ts";
import { FLOOR_PORTS, floorRelayApps, type Framing } from "./floor.ts";
import { benchMachine, NODE_OPTIONS_USAGE, parseEnvPairs, parseRounds, proxyNodeOptions, ROOT, runMain, sayAs, writeResults } from "./harness.ts";
import { ztunnelBenchRun } from "./runs.ts";
import { medianRounds, renderJson, renderMarkdown, type FloorResult, type RoundResult, type ZtunnelBenchResult } from "./report.ts";

import { PROC, processName } from "../mesh/local/index.ts";

const FRAMINGS: Framing[] = ["h2", "own", "tls"];
const FLOOR_NAMES: Record<Framing, string> = {
  h2: "HBONE over node:http2, nothing else",
  own: "HBONE over our own HTTP/2 (mesh/proxy/h2), nothing else",
  tls: "mutual TLS per connection, no HTTP/2",
};

const scenarioSchema = z.strictObject({
  name: z.string(),
  rate: z.number().positive(),
  connections: z.number().int().positive(),
  durationSeconds: z.number().positive(),
  warmupSeconds: z.number().min(0),
  payloadBytes: z.number().int().min(0),
  bulkSeconds: z.number().positive(),
});

const say = sayAs("bench");

async function prerequisites(): Promise<void> {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push("root (network namespaces and nftables): run with sudo");
  for (const [tool, pkg] of [
    ["ip", "iproute2"],
    ["nft", "nftables"],
    ["curl", "curl"],
    ["nginx", "nginx"],
    ["iperf3", "iperf3"],
  ] as const) {
    const r = await run("sh", ["-c", `command -v ${tool}`]);
    if (r.code !== 0) missing.push(`${tool}: apt-get install ${pkg}`);
  }
  if (missing.length) {
    process.stderr.write(`bench:ztunnel cannot run; missing:\n  ${missing.join("\n  ")}\n`);
    process.exit(2);
  }
}

async function load(cluster: LocalCluster, pod: string, url: string, s: z.infer<typeof scenarioSchema>): Promise<LoadResult> {
  const out = await runLoad(cluster, pod, url, s);
  if (out.errors > 0) say(`  ${out.errors} errors (first: ${out.firstError ?? "?"})`);
  return out;
}

async function bulk(cluster: LocalCluster, client: string, serverIp: string, seconds: number, port = 5201): Promise<number> {
  const r = await cluster.exec(client, "iperf3", ["-c", serverIp, "-p", String(port), "-t", String(seconds), "-J"]);
  const j = JSON.parse(r.stdout) as { end?: { sum_received?: { bits_per_second: number } }; error?: string };
  if (!j.end?.sum_received) throw new Error(`iperf3 failed: ${j.error ?? r.stderr}`);
  return j.end.sum_received.bits_per_second / 1e9;
}

const USAGE = `Usage: sudo npm run bench:ztunnel [-- SCENARIO.yaml] [--rounds N] [--cpu-prof DIR] [--node-options=STR] [--ztunnel-env KEY=VALUE]...
  the ztunnel data path against no mesh, in network namespaces (default scenario bench/scenarios/ztunnel.yaml);
  prints a table and writes results/ztunnel-bench.{json,md}. Needs root, nginx and iperf3.
  --rounds N       measure every path N times, interleaved, and report medians (default 1)
  --cpu-prof DIR   each ztunnel writes a V8 CPU profile of the whole run into DIR (open it in Chrome's
                   DevTools or speedscope); profiling slows the proxies, so its figures are not comparable
  --ztunnel-env KEY=VALUE  one more variable of the ztunnels' environment (repeatable; node mesh/ztunnel/main.ts
                   --help lists them), e.g. STARTUP_EFFICIENCY=off: an experiment, as --node-options is
${NODE_OPTIONS_USAGE}`;

async function main(): Promise<void> {
  const { values, positionals } = scriptArgs("bench:ztunnel", USAGE, {
    options: {
      "cpu-prof": { type: "string" },
      "node-options": { type: "string" },
      "ztunnel-env": { type: "string", multiple: true },
      rounds: { type: "string", default: "1" },
    },
    allowPositionals: true,
  });
  const extraEnv = parseEnvPairs("bench:ztunnel", "ztunnel-env", values["ztunnel-env"]);
  const profileDir = values["cpu-prof"];
  if (profileDir) await mkdir(profileDir, { recursive: true });
  const roundCount = parseRounds("bench:ztunnel", values.rounds);
  await prerequisites();
  const scenarioPath = positionals[0] ?? join(ROOT, "bench/scenarios/ztunnel.yaml");
  const s = scenarioSchema.parse(parse(await readFile(scenarioPath, "utf8")));
  const workDir = await mkdtemp(join(os.tmpdir(), "al-bench-"));
  const nginx = await nginxApp(join(workDir, "nginx"), 8080, s.payloadBytes);
  const iperf = { cmd: "iperf3", args: ["-s", "-p", "5201"] };
  // Measure the artifact that ships: the bundle, run by the image's ENTRYPOINT (mesh/Dockerfile).
  const bundled = await bundle("ztunnel");
  const pods: ClusterPod[] = [
    { namespace: "mesh", name: "client", node: "node-1", serviceAccount: "client", ambient: true },
    { namespace: "mesh", name: "server", node: "node-2", serviceAccount: "server", ambient: true, app: nginx },
    { namespace: "mesh", name: "bulk", node: "node-2", serviceAccount: "bulk", ambient: true, app: iperf },
    { namespace: "plain", name: "client", node: "node-1", serviceAccount: "client", ambient: false },
    {
      namespace: "plain",
      name: "server",
      node: "node-2",
      serviceAccount: "server",
      ambient: false,
      app: await nginxApp(join(workDir, "nginx-plain"), 8080, s.payloadBytes),
    },
    { namespace: "plain", name: "bulk", node: "node-2", serviceAccount: "bulk", ambient: false, app: iperf },
    // The floors: the least Node relay pairs (bench/floor-relay.ts) beside the ztunnels, outside the mesh.
    ...FRAMINGS.flatMap((f): ClusterPod[] => [
      { namespace: `floor-${f}`, name: "out", node: "node-1", serviceAccount: "out", ambient: false },
      { namespace: `floor-${f}`, name: "in", node: "node-2", serviceAccount: "in", ambient: false },
    ]),
  ];
  const spec: ClusterSpec = {
    prefix: `al-b${randomBytes(2).toString("hex")}`,
    nodes: ["node-1", "node-2"],
    workDir,
    pods,
    services: [],
    ztunnelEnv: { LOG_LEVEL: "warn", ...proxyNodeOptions({ cpuProfDir: profileDir, nodeOptions: values["node-options"] }), ...extraEnv },
    // The data path alone: ztunnels on LOCAL_CONFIG, no control plane process sharing the CPU.
    mode: "local-config",
    bundles: true,
  };
  // Addresses depend on names and order only, so the relays' commands can name them before the cluster exists.
  const plan = new ClusterView(spec);
  for (const f of FRAMINGS) {
    const apps = await floorRelayApps(join(workDir, "floor"), f, {
      outIp: plan.pod(`floor-${f}/out`).ip,
      inIp: plan.pod(`floor-${f}/in`).ip,
      http: { ip: plan.pod("plain/server").ip, port: 8080 },
      bulk: { ip: plan.pod("plain/bulk").ip, port: 5201 },
    });
    pods.find((p) => p.namespace === `floor-${f}` && p.name === "out")!.app = apps.out;
    pods.find((p) => p.namespace === `floor-${f}` && p.name === "in")!.app = apps.in;
  }
  const cluster = new LocalCluster(spec);
  const stop = async () => {
    say("cleaning up");
    await cluster.down();
    await rm(workDir, { recursive: true, force: true });
  };
  process.once("SIGINT", () => void stop().then(() => process.exit(130)));
  try {
    say(`bundled ztunnel: ${bundled}`);
    say(`building the topology (${cluster.spec.prefix}) and starting two ztunnels`);
    await cluster.up();
    const waitFor = async (pod: string, ip: string) => {
      for (let i = 0; i < 100; i++) {
        if ((await cluster.exec(pod, "curl", ["-s", "-o", "/dev/null", "-m", "1", `http://${ip}:8080/`])).code === 0) return;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`server ${ip} did not come up`);
    };
    await waitFor("plain/client", cluster.pod("plain/server").ip);
    await waitFor("mesh/client", cluster.pod("mesh/server").ip);
    const total = s.rate * (s.durationSeconds + s.warmupSeconds);
    const pidOf = (key: Parameters<typeof processName>[0]) => cluster.processes.get(processName(key))!.pid;
    // One path: the HTTP load (CPU and RSS of its proxies over it), then one bulk stream (their peak).
    const measurePath = async (o: {
      name: string;
      client: string;
      url: string;
      bulk: { ip: string; port?: number };
      proxies: Array<{ node: string; pid: number }>;
    }) => {
      say(`${o.name}: ${s.rate} req/s for ${s.warmupSeconds}+${s.durationSeconds} s, then one bulk stream for ${s.bulkSeconds} s`);
      const before = await Promise.all(o.proxies.map((z) => cpuSeconds(z.pid)));
      const loadResult = await load(cluster, o.client, o.url, s);
      const after = await Promise.all(o.proxies.map((z) => cpuSeconds(z.pid)));
      const mem = await Promise.all(o.proxies.map((z) => memoryMb(z.pid)));
      const gbps = await bulk(cluster, o.client, o.bulk.ip, s.bulkSeconds, o.bulk.port);
      const peak = await Promise.all(o.proxies.map((z) => memoryMb(z.pid)));
      const usage = o.proxies.map((z, i) => ({
        node: z.node,
        cpuPer1000Requests: cpuPer1000Requests(after[i]! - before[i]!, total),
        rssAfterLoadMb: mem[i]!.current,
        peakRssMb: Math.max(mem[i]!.peak, peak[i]!.peak),
      }));
      return { load: loadResult, usage, gbps };
    };
    const rounds: RoundResult[] = [];
    for (let round = 1; round <= roundCount; round++) {
      if (roundCount > 1) say(`round ${round} of ${roundCount}`);
      const direct = await measurePath({
        name: "direct path",
        client: "plain/client",
        url: `http://${cluster.pod("plain/server").ip}:8080/`,
        bulk: { ip: cluster.pod("plain/bulk").ip },
        proxies: [],
      });
      const mesh = await measurePath({
        name: "through the ztunnels",
        client: "mesh/client",
        url: `http://${cluster.pod("mesh/server").ip}:8080/`,
        bulk: { ip: cluster.pod("mesh/bulk").ip },
        proxies: ["node-1", "node-2"].map((n) => ({ node: n, pid: pidOf(PROC.ztunnel(n)) })),
      });
      const floors: FloorResult[] = [];
      for (const f of FRAMINGS) {
        const out = cluster.pod(`floor-${f}/out`).ip;
        const m = await measurePath({
          name: `floor "${f}" (two minimal Node relays, ${FLOOR_NAMES[f]})`,
          client: "plain/client",
          url: `http://${out}:${FLOOR_PORTS.http}/`,
          bulk: { ip: out, port: FLOOR_PORTS.bulk },
          proxies: ["out", "in"].map((p) => ({ node: `floor-${f}/${p}`, pid: pidOf(PROC.app(`floor-${f}/${p}`)) })),
        });
        floors.push({ name: f, description: FLOOR_NAMES[f], load: m.load, relays: m.usage, bulkGbps: m.gbps });
      }
      rounds.push({ direct: direct.load, mesh: mesh.load, ztunnels: mesh.usage, bulkGbps: { direct: direct.gbps, mesh: mesh.gbps }, floors });
    }
    const result: ZtunnelBenchResult = {
      scenario: {
        rate: s.rate,
        connections: s.connections,
        durationSeconds: s.durationSeconds,
        payloadBytes: s.payloadBytes,
        bulkSeconds: s.bulkSeconds,
        ...(roundCount > 1 ? { rounds: roundCount } : {}),
      },
      machine: benchMachine(),
      ...medianRounds(rounds),
      ...(roundCount > 1 ? { rounds } : {}),
    };
    await writeResults("ztunnel-bench", renderJson(result), renderMarkdown(result), say, ztunnelBenchRun(result));
  } finally {
    await stop();
  }
}

runMain("bench:ztunnel", main);
