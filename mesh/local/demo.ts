// The single-machine demo behind `npm run demo`: the default cluster (the one `ambientctl local up`
// builds), sleep calling httpbin with and without the mesh, proof that the mesh traffic is encrypted,
// an AuthorizationPolicy taking effect through the control plane, a short baseline-vs-ambient
// benchmark, then the namespace bound to its waypoint: HTTPRoute routing, an L7 policy, HTTP metrics
// and the same benchmark through the waypoint. A cluster that is already up is used and left up; one the demo builds is removed at the
// end unless --keep (then `ambientctl local down` removes it).
import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { run } from "../shared/index.ts";
import { cpuPer1000Requests, measureProcesses, runLoad, type LoadResult, type LoadSpec } from "../measure/index.ts";
import { destroyFromState, LocalCluster, NODE_BIN } from "./cluster.ts";
import { ECHO_CALL } from "./apps.ts";
import { DEMO_NAMESPACES as NS, defaultTopology } from "./default-topology.ts";
import { clusterPrefix, defaultStatePath, StateRecorder } from "./state.ts";
import { startSupervisor, supervisorRunning } from "./supervisor.ts";
import { createProgress } from "./progress.ts";
import { LABELS } from "../api/index.ts";
import { PROC, processName } from "./process-key.ts";

export interface DemoStep {
  name: string;
  ok: boolean;
  detail: string;
}

export interface DemoBenchmark {
  load: LoadSpec;
  baseline: LoadResult;
  ambient: LoadResult;
  ztunnels: Array<{ node: string; cpuPer1000Requests: number; rssMb: number }>;
  /** The same load in the sidecar mode: a proxy beside each pod. */
  sidecar?: LoadResult;
  sidecars?: Array<{ pod: string; cpuPer1000Requests: number; rssMb: number }>;
  /** The same load with bench-server bound to the namespace's waypoint (L4 + L7). */
  waypoint?: LoadResult;
  waypointProxy?: { cpuPer1000Requests: number; rssMb: number };
}

export interface DemoResult {
  date: string;
  cluster: {
    nodes: Array<{ name: string; netns: string; ip: string }>;
    pods: Array<{ pod: string; ip: string; node: string; ambient: boolean; sidecar?: boolean }>;
  };
  steps: DemoStep[];
  benchmark?: DemoBenchmark;
}

export interface DemoOptions {
  keep: boolean;
  resultsDir: string;
  say: (line: string) => void;
  load?: LoadSpec;
}

export const DEMO_LOAD: LoadSpec = { rate: 500, connections: 4, durationSeconds: 5, warmupSeconds: 1 };

const DENY = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: deny-sleep, namespace: ${NS.mesh} }
spec: { action: DENY, rules: [{ from: [{ source: { principals: ["cluster.local/ns/${NS.mesh}/sa/sleep"] } }] }] }
`;

// The waypoint part: an HTTPRoute on httpbin that marks what it routes, an L7 policy on the waypoint,
// and one on the echo service that denies a gRPC method by its path.
const L7 = `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: httpbin, namespace: ${NS.mesh} }
spec:
  parentRefs: [{ group: "", kind: Service, name: httpbin, port: 8000 }]
  rules:
    - filters: [{ type: RequestHeaderModifier, requestHeaderModifier: { set: [{ name: X-Routed-By, value: waypoint }] } }]
      backendRefs: [{ name: httpbin, port: 8000 }]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: no-delete, namespace: ${NS.mesh} }
spec:
  targetRefs: [{ kind: Gateway, group: gateway.networking.k8s.io, name: waypoint }]
  action: DENY
  rules: [{ to: [{ operation: { methods: [DELETE] } }] }]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: no-echo-stream, namespace: ${NS.mesh} }
spec:
  targetRefs: [{ kind: Service, group: "", name: echo }]
  action: DENY
  rules: [{ to: [{ operation: { paths: [/ambientlab.v1.EchoService/EchoStream] } }] }]
`;

const r3 = (n: number) => Math.round(n * 1000) / 1000;

export function renderDemoMarkdown(r: DemoResult): string {
  const lines = [
    `# ambient-lab demo (${r.date})`,
    ``,
    `| pod | IP | node | in the mesh |`,
    `|---|---|---|---|`,
    ...r.cluster.pods.map((p) => `| ${p.pod} | ${p.ip} | ${p.node} | ${p.ambient ? "yes (ambient)" : p.sidecar ? "yes (sidecar)" : "no"} |`),
    ``,
    `| step | result | detail |`,
    `|---|---|---|`,
    ...r.steps.map((s) => `| ${s.name} | ${s.ok ? "ok" : "FAILED"} | ${s.detail.replace(/\|/g, "\\|").replace(/\n/g, " ")} |`),
    ``,
  ];
  if (r.benchmark) {
    const b = r.benchmark;
    const row = (name: string, l: LoadResult) => `| ${name} | ${l.latencyMs.p50} | ${l.latencyMs.p90} | ${l.latencyMs.p99} | ${l.achievedRate} | ${l.errors} |`;
    lines.push(
      `## Benchmark: sleep -> bench-server, ${b.load.rate} req/s open loop over ${b.load.connections} connections for ${b.load.durationSeconds} s`,
      ``,
      `| path | p50 ms | p90 ms | p99 ms | achieved req/s | errors |`,
      `|---|---|---|---|---|---|`,
      row(`baseline (no mesh)`, b.baseline),
      ...(b.sidecar ? [row(`sidecar (a proxy in each pod, mTLS)`, b.sidecar)] : []),
      row(`ambient (two ztunnels, mTLS)`, b.ambient),
      ...(b.waypoint ? [row(`ambient + waypoint (L7)`, b.waypoint)] : []),
      ``,
      `| proxy | CPU seconds per 1000 requests | RSS MB |`,
      `|---|---|---|`,
      ...(b.sidecars ?? []).map((s) => `| sidecar ${s.pod} | ${r3(s.cpuPer1000Requests)} | ${r3(s.rssMb)} |`),
      ...b.ztunnels.map((z) => `| ztunnel ${z.node} | ${r3(z.cpuPer1000Requests)} | ${r3(z.rssMb)} |`),
      ...(b.waypointProxy ? [`| waypoint (ambient-demo) | ${r3(b.waypointProxy.cpuPer1000Requests)} | ${r3(b.waypointProxy.rssMb)} |`] : []),
      ``,
    );
  }
  return lines.join("\n");
}

async function openCluster(say: (s: string) => void): Promise<{ cluster: LocalCluster; recorder: StateRecorder; ours: boolean }> {
  const existing = await StateRecorder.load(defaultStatePath());
  if (existing && existing.state.status === "up" && supervisorRunning(existing.state)) {
    say("using the local cluster that is already up (it stays up afterwards)");
    return { cluster: new LocalCluster(existing.state.spec, undefined, { recorder: existing }), recorder: existing, ours: false };
  }
  if (existing) {
    say("removing an incomplete local cluster first");
    await destroyFromState(existing);
  }
  const spec = await defaultTopology({ nodes: 2, workDir: join(defaultStatePath(), "..", "al-cluster"), prefix: clusterPrefix() });
  say("creating nodes and pods as network namespaces, starting the control plane and a ztunnel on each node (under the cluster's supervisor)");
  // A spinner per step on a terminal, plain timed lines in logs (progress.ts).
  const progress = createProgress({ stream: process.stdout, expectedSteps: 6 });
  try {
    await startSupervisor(StateRecorder.fresh(defaultStatePath(), spec), (step) => (step.startsWith("supervising") ? undefined : progress.step(step)));
  } catch (err) {
    progress.fail("the cluster did not come up");
    throw err;
  }
  progress.done("cluster up");
  const recorder = (await StateRecorder.load(defaultStatePath()))!;
  return { cluster: new LocalCluster(spec, undefined, { recorder }), recorder, ours: true };
}

export async function runDemo(opts: DemoOptions): Promise<DemoResult> {
  const say = opts.say;
  const { cluster, recorder, ours } = await openCluster(say);
  const workDir = cluster.spec.workDir;
  const steps: DemoStep[] = [];
  const step = (name: string, ok: boolean, detail: string) => {
    steps.push({ name, ok, detail });
    say(`${ok ? "✔" : "✘"} ${name}: ${detail}`);
  };
  const curl = async (pod: string, url: string) => {
    const r = await cluster.exec(pod, "curl", ["-sS", "-m", "3", url]);
    return { ok: r.code === 0, out: (r.stdout || r.stderr).trim() };
  };
  const until = async (pod: string, url: string, want: boolean) => {
    let r = await curl(pod, url);
    for (let i = 0; i < 50 && r.ok !== want; i++) {
      await new Promise((res) => setTimeout(res, 100));
      r = await curl(pod, url);
    }
    return r;
  };
  const cleanup = async () => {
    if (!ours) return;
    if (opts.keep) {
      say("--keep: the cluster stays up; `npx ambientctl local status` shows it, `sudo npx ambientctl local down` removes it");
      return;
    }
    say("removing the cluster (processes, namespaces, rules, files)");
    await destroyFromState(recorder);
  };
  const onSignal = () => void cleanup().then(() => process.exit(130));
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    await until(`${NS.plain}/sleep`, `http://httpbin.${NS.plain}:8000/get`, true);
    await until(`${NS.mesh}/sleep`, `http://httpbin.${NS.mesh}:8000/get`, true);
    for (const ns of [NS.mesh, NS.plain]) {
      const r = await curl(`${ns}/sleep`, `http://httpbin.${ns}:8000/headers`);
      step(`sleep calls httpbin in ${ns}`, r.ok && r.out.includes('"headers"'), r.out.replace(/\s+/g, " "));
    }

    const capture = async (name: string, call: () => Promise<{ ok: boolean; out: string }>) => {
      const pcap = join(workDir, `${name}.pcap`);
      const dump = cluster.processes.start({
        name: `tcpdump-${name}`,
        netns: cluster.node("node-1").netns,
        cmd: "tcpdump",
        args: ["-i", "uplink", "--immediate-mode", "-U", "-n", "-Z", "root", "-w", pcap, "tcp"],
        logFile: join(workDir, "logs", `tcpdump-${name}.log`),
      });
      await dump.recorded;
      for (let i = 0; i < 100 && !(await readFile(dump.logFile, "utf8").catch(() => "")).includes("listening on"); i++)
        await new Promise((r) => setTimeout(r, 50));
      const result = await call();
      await new Promise((r) => setTimeout(r, 300));
      await cluster.processes.stop(`tcpdump-${name}`);
      const text = (await run("tcpdump", ["-n", "-A", "-r", pcap])).stdout;
      return { result, text, packets: (p: RegExp) => text.split("\n").filter((l) => p.test(l)).length };
    };
    const marker = `secret-${randomBytes(4).toString("hex")}`;
    const enc = await capture("ambient", () => curl(`${NS.mesh}/sleep`, `http://httpbin.${NS.mesh}:8000/anything/${marker}`));
    const hbone = enc.packets(/\.15008[: ]/);
    step(
      "the ambient call is encrypted on the node link",
      enc.result.ok && hbone > 0 && !enc.text.includes(marker),
      `capture on node-1's uplink: ${hbone} packets on port 15008 (HBONE, TLS 1.3); the request path "${marker}" appears 0 times`,
    );
    const clear = await capture("baseline", () => curl(`${NS.plain}/sleep`, `http://httpbin.${NS.plain}:8000/anything/${marker}`));
    step(
      "the baseline call crosses the same link in plaintext",
      clear.result.ok && clear.text.includes(`GET /anything/${marker}`),
      `same capture for the baseline namespace: the request line "GET /anything/${marker}" is readable on the wire`,
    );

    const metrics = (await cluster.execInNode("node-2", "curl", ["-s", "http://127.0.0.1:15020/metrics"])).stdout;
    const line = metrics
      .split("\n")
      .find(
        (l) =>
          l.startsWith('istio_tcp_connections_opened_total{reporter="destination"') &&
          l.includes(`source_principal="spiffe://cluster.local/ns/${NS.mesh}/sa/sleep"`),
      );
    step(
      "ztunnel metrics show both SPIFFE identities",
      line !== undefined && line.includes(`destination_principal="spiffe://cluster.local/ns/${NS.mesh}/sa/httpbin"`),
      line ?? "no matching metric",
    );
    const log = (await readFile(join(workDir, "logs", "ztunnel-node-2.log"), "utf8"))
      .split("\n")
      .filter((l) => l.includes('"target":"access"') && l.includes('"direction":"inbound"') && l.includes("sa/sleep"))
      .at(-1);
    step("the access log records the connection", log !== undefined && log.includes("src.identity"), log ?? "no access log line");

    say("applying an AuthorizationPolicy that denies sleep's identity (security.istio.io/v1, action DENY)");
    await cluster.applyManifest("demo-deny-sleep", DENY);
    const denied = await until(`${NS.mesh}/sleep`, `http://httpbin.${NS.mesh}:8000/get`, false);
    step("with the DENY policy the call is refused", !denied.ok, denied.out);
    await cluster.applyManifest("demo-deny-sleep", null);
    const restored = await until(`${NS.mesh}/sleep`, `http://httpbin.${NS.mesh}:8000/get`, true);
    step("without it the call works again", restored.ok, restored.ok ? "200 OK from httpbin" : restored.out);

    const load = opts.load ?? DEMO_LOAD;
    say(`benchmark: ${load.rate} req/s for ${load.durationSeconds} s to bench-server, baseline, then ambient, then the sidecar mode`);
    const baseline = await runLoad(cluster, `${NS.plain}/sleep`, `http://bench-server.${NS.plain}:8080/`, load);
    const zts = cluster.plan.nodes.map((n) => ({ node: n.name, pid: recorder.state.processes.find((p) => p.name === processName(PROC.ztunnel(n.name)))!.pid }));
    const m = await measureProcesses(
      zts.map((z) => z.pid),
      () => runLoad(cluster, `${NS.mesh}/sleep`, `http://bench-server.${NS.mesh}:8080/`, load),
    );
    const requests = load.rate * (load.durationSeconds + load.warmupSeconds);
    const benchmark: DemoBenchmark = {
      load,
      baseline,
      ambient: m.result,
      ztunnels: zts.map((z, i) => ({ node: z.node, cpuPer1000Requests: cpuPer1000Requests(m.cpuSeconds[i]!, requests), rssMb: m.rssMb[i]! })),
    };
    step(
      "benchmark baseline vs ambient",
      baseline.errors === 0 && m.result.errors === 0,
      `p50/p90/p99 ${baseline.latencyMs.p50}/${baseline.latencyMs.p90}/${baseline.latencyMs.p99} ms without the mesh, ${m.result.latencyMs.p50}/${m.result.latencyMs.p90}/${m.result.latencyMs.p99} ms with it`,
    );
    const sidecarPods = [`${NS.sidecar}/sleep`, `${NS.sidecar}/bench-server`];
    const sidecarPids = sidecarPods.map((p) => recorder.state.processes.find((x) => x.name === processName(PROC.sidecar(p)))?.pid);
    if (sidecarPids.every((p): p is number => p !== undefined)) {
      say(`the same load in the sidecar mode (${NS.sidecar}: a proxy beside each pod)`);
      await until(`${NS.sidecar}/sleep`, `http://bench-server.${NS.sidecar}:8080/`, true);
      const sc = await measureProcesses(sidecarPids, () => runLoad(cluster, `${NS.sidecar}/sleep`, `http://bench-server.${NS.sidecar}:8080/`, load));
      benchmark.sidecar = sc.result;
      benchmark.sidecars = sidecarPods.map((pod, i) => ({ pod, cpuPer1000Requests: cpuPer1000Requests(sc.cpuSeconds[i]!, requests), rssMb: sc.rssMb[i]! }));
      step(
        "benchmark sidecar",
        sc.result.errors === 0,
        `p50/p90/p99 ${sc.result.latencyMs.p50}/${sc.result.latencyMs.p90}/${sc.result.latencyMs.p99} ms with a proxy in each pod`,
      );
    }

    say(`binding ${NS.mesh}'s services to its waypoint (istio.io/use-waypoint=waypoint), with an HTTPRoute and an L7 AuthorizationPolicy`);
    await cluster.setNamespaceLabels(NS.mesh, { [LABELS.dataplaneMode]: "ambient", [LABELS.useWaypoint]: "waypoint" });
    await cluster.applyManifest("demo-l7", L7);
    try {
      const url = `http://httpbin.${NS.mesh}:8000/headers`;
      let routed = await curl(`${NS.mesh}/sleep`, url);
      for (let i = 0; i < 50 && !routed.out.includes("X-Routed-By"); i++) {
        await new Promise((res) => setTimeout(res, 100));
        routed = await curl(`${NS.mesh}/sleep`, url);
      }
      step("HTTP now goes through the waypoint, routed by the HTTPRoute", routed.out.includes('"X-Routed-By"'), routed.out.replace(/\s+/g, " "));
      const del = await cluster.exec(`${NS.mesh}/sleep`, "curl", [
        "-sS",
        "-m",
        "3",
        "-X",
        "DELETE",
        "-w",
        " (%{http_code})",
        `http://httpbin.${NS.mesh}:8000/delete`,
      ]);
      step("the waypoint's L7 policy refuses DELETE", del.stdout.trim() === "RBAC: access denied (403)", del.stdout.trim() || del.stderr.trim());
      const h2 = await cluster.exec(`${NS.mesh}/sleep`, "curl", [
        "-sS",
        "-m",
        "3",
        "--http2-prior-knowledge",
        "-o",
        "/dev/null",
        "-w",
        "HTTP/%{http_version} %{http_code}",
        url,
      ]);
      step(
        "HTTP/2 with prior knowledge (curl --http2-prior-knowledge) through the waypoint",
        h2.stdout.trim() === "HTTP/2 200",
        h2.stdout.trim() || h2.stderr.trim(),
      );
      const echo = (args: string[]) => cluster.exec(`${NS.mesh}/sleep`, NODE_BIN, [ECHO_CALL, ...args]);
      const unary = await echo(["grpc", `http://echo.${NS.mesh}:9090`, "hello"]);
      step(
        "a gRPC call through the waypoint (the echo Service's port is named grpc)",
        unary.stdout.includes('"servedBy":"echo"'),
        unary.stdout.trim() || unary.stderr.trim(),
      );
      const stream = await echo(["grpc", `http://echo.${NS.mesh}:9090`, "hello", "--stream", "3"]);
      step(
        "the L7 policy denies the EchoStream method by its path: PERMISSION_DENIED",
        stream.stdout.includes('"error":"PermissionDenied"'),
        stream.stdout.trim() || stream.stderr.trim(),
      );
      const ws = await echo(["ws", `ws://echo.${NS.mesh}:8080/chat`, "hello"]);
      step("a WebSocket upgraded through the waypoint", ws.stdout.includes("echo /chat: hello"), ws.stdout.trim() || ws.stderr.trim());
      const wpMetrics = (await cluster.exec(`${NS.mesh}/waypoint`, "curl", ["-s", "http://127.0.0.1:15020/metrics"])).stdout;
      const req = wpMetrics.split("\n").find((l) => l.startsWith("istio_requests_total{") && l.includes('response_code="403"'));
      step(
        "the waypoint reports HTTP metrics (istio_requests_total, reporter=waypoint)",
        req !== undefined && req.includes('source_workload="sleep"'),
        req ?? "no matching metric",
      );
      const wpPid = recorder.state.processes.find((p) => p.name === processName(PROC.waypoint(`${NS.mesh}/waypoint`)))!.pid;
      const w = await measureProcesses([wpPid], () => runLoad(cluster, `${NS.mesh}/sleep`, `http://bench-server.${NS.mesh}:8080/`, load));
      benchmark.waypoint = w.result;
      benchmark.waypointProxy = { cpuPer1000Requests: cpuPer1000Requests(w.cpuSeconds[0]!, requests), rssMb: w.rssMb[0]! };
      step(
        "benchmark ambient + waypoint",
        w.result.errors === 0,
        `p50/p90/p99 ${w.result.latencyMs.p50}/${w.result.latencyMs.p90}/${w.result.latencyMs.p99} ms through both ztunnels and the waypoint`,
      );
    } finally {
      await cluster.applyManifest("demo-l7", null);
      await cluster.setNamespaceLabels(NS.mesh, {});
    }

    const result: DemoResult = {
      date: new Date().toISOString(),
      cluster: {
        nodes: cluster.plan.nodes.map((n) => ({ name: n.name, netns: n.netns, ip: n.ip })),
        pods: cluster.plan.pods.map((p) => ({
          pod: `${p.namespace}/${p.name}`,
          ip: p.ip,
          node: p.node,
          ambient: p.namespace === NS.mesh && p.name !== "waypoint",
          ...(p.namespace === NS.sidecar ? { sidecar: true } : {}),
        })),
      },
      steps,
      benchmark,
    };
    await mkdir(opts.resultsDir, { recursive: true });
    await writeFile(join(opts.resultsDir, "demo.json"), JSON.stringify(result, null, 2) + "\n");
    await writeFile(join(opts.resultsDir, "demo.md"), renderDemoMarkdown(result));
    say(`results written to ${join(opts.resultsDir, "demo.{json,md}")}`);
    return result;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await cleanup();
  }
}
