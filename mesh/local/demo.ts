// The single-machine demo: a two-node cluster in network namespaces, sleep calling httpbin with and
// without the mesh, proof that the mesh traffic is encrypted, and an L4 DENY policy taking effect.
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import { join } from "node:path";
import { run } from "../shared/exec.ts";
import { nodeHttpApp } from "./apps.ts";
import { LocalCluster } from "./cluster.ts";

export interface DemoStep {
  name: string;
  ok: boolean;
  detail: string;
}

export interface DemoResult {
  date: string;
  cluster: { nodes: Array<{ name: string; netns: string; ip: string }>; pods: Array<{ pod: string; ip: string; node: string; ambient: boolean }> };
  steps: DemoStep[];
}

export interface DemoOptions {
  keep: boolean;
  resultsDir: string;
  say: (line: string) => void;
}

const NS = { mesh: "ambient-demo", plain: "baseline" };

export function buildDemoCluster(workDir: string, prefix = `al-demo${randomBytes(2).toString("hex")}`): LocalCluster {
  const pods = [NS.mesh, NS.plain].flatMap((ns) => [
    { namespace: ns, name: "sleep", node: "node-1", serviceAccount: "sleep", ambient: ns === NS.mesh },
    { namespace: ns, name: "httpbin", node: "node-2", serviceAccount: "httpbin", ambient: ns === NS.mesh, app: nodeHttpApp("httpbin") },
  ]);
  const services = [NS.mesh, NS.plain].map((ns) => ({ namespace: ns, name: "httpbin", selector: ["httpbin"], ports: [{ port: 8000, targetPort: 8080 }] }));
  return new LocalCluster({ prefix, nodes: ["node-1", "node-2"], workDir, pods, services });
}

export function renderDemoMarkdown(r: DemoResult): string {
  return [
    `# ambient-lab demo (${r.date})`,
    ``,
    `| pod | IP | node | in the mesh |`,
    `|---|---|---|---|`,
    ...r.cluster.pods.map((p) => `| ${p.pod} | ${p.ip} | ${p.node} | ${p.ambient ? "yes" : "no"} |`),
    ``,
    `| step | result | detail |`,
    `|---|---|---|`,
    ...r.steps.map((s) => `| ${s.name} | ${s.ok ? "ok" : "FAILED"} | ${s.detail.replace(/\|/g, "\\|").replace(/\n/g, " ")} |`),
    ``,
  ].join("\n");
}

export async function runDemo(opts: DemoOptions): Promise<DemoResult> {
  const say = opts.say;
  const workDir = await mkdtemp(join(os.tmpdir(), "al-demo-"));
  const cluster = buildDemoCluster(workDir);
  const steps: DemoStep[] = [];
  const step = (name: string, ok: boolean, detail: string) => {
    steps.push({ name, ok, detail });
    say(`${ok ? "✔" : "✘"} ${name}: ${detail}`);
  };
  const curl = async (pod: string, url: string) => {
    const r = await cluster.exec(pod, "curl", ["-sS", "-m", "3", url]);
    return { ok: r.code === 0, out: (r.stdout || r.stderr).trim() };
  };
  const cleanup = async () => {
    if (opts.keep) {
      say(`--keep: cluster ${cluster.spec.prefix} left running (work dir ${workDir}); remove it by stopping the processes and deleting its namespaces`);
      return;
    }
    say("removing the cluster (processes, namespaces, rules)");
    await cluster.down();
    await rm(workDir, { recursive: true, force: true });
  };
  const onSignal = () => void cleanup().then(() => process.exit(130));
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    say("creating nodes and pods as network namespaces, starting the control plane and a ztunnel on each node");
    const t0 = Date.now();
    await cluster.up();
    say(`cluster up in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    for (let i = 0; i < 50 && !(await curl(`${NS.plain}/sleep`, "http://httpbin.baseline:8000/")).ok; i++) await new Promise((r) => setTimeout(r, 100));

    for (const ns of [NS.mesh, NS.plain]) {
      const r = await curl(`${ns}/sleep`, `http://httpbin.${ns}:8000/get`);
      step(`sleep calls httpbin in ${ns}`, r.ok, r.out);
    }

    const capture = async (name: string, call: () => Promise<{ ok: boolean; out: string }>) => {
      const pcap = join(workDir, `${name}.pcap`);
      const dump = cluster.processes.start({ name: `tcpdump-${name}`, netns: cluster.node("node-1").netns, cmd: "tcpdump", args: ["-i", "uplink", "--immediate-mode", "-U", "-n", "-Z", "root", "-w", pcap, "tcp"], logFile: join(workDir, "logs", `tcpdump-${name}.log`) });
      for (let i = 0; i < 100 && !(await readFile(dump.logFile, "utf8").catch(() => "")).includes("listening on"); i++) await new Promise((r) => setTimeout(r, 50));
      const result = await call();
      await new Promise((r) => setTimeout(r, 300));
      await cluster.processes.stop(`tcpdump-${name}`);
      const text = (await run("tcpdump", ["-n", "-A", "-r", pcap])).stdout;
      return { result, text, packets: (p: RegExp) => text.split("\n").filter((l) => p.test(l)).length };
    };
    const marker = `secret-${randomBytes(4).toString("hex")}`;
    const enc = await capture("ambient", () => curl(`${NS.mesh}/sleep`, `http://httpbin.${NS.mesh}:8000/${marker}`));
    const hbone = enc.packets(/\.15008[: ]/);
    step(
      "the ambient call is encrypted on the node link",
      enc.result.ok && hbone > 0 && !enc.text.includes(marker),
      `capture on node-1's uplink: ${hbone} packets on port 15008 (HBONE, TLS 1.3); the request path "${marker}" appears 0 times`,
    );
    const clear = await capture("baseline", () => curl(`${NS.plain}/sleep`, `http://httpbin.${NS.plain}:8000/${marker}`));
    step(
      "the baseline call crosses the same link in plaintext",
      clear.result.ok && clear.text.includes(`GET /${marker}`),
      `same capture for the baseline namespace: the request line "GET /${marker}" is readable on the wire`,
    );
    const metrics = (await cluster.execInNode("node-2", "curl", ["-s", "http://127.0.0.1:15020/metrics"])).stdout;
    const line = metrics.split("\n").find((l) => l.startsWith("istio_tcp_connections_opened_total{reporter=\"destination\"") && l.includes(`source_principal="spiffe://cluster.local/ns/${NS.mesh}/sa/sleep"`));
    step("ztunnel metrics show both SPIFFE identities", line !== undefined && line.includes(`destination_principal="spiffe://cluster.local/ns/${NS.mesh}/sa/httpbin"`), line ?? "no matching metric");
    const log = (await readFile(join(workDir, "logs", "ztunnel-node-2.log"), "utf8")).split("\n").filter((l) => l.includes('"target":"access"') && l.includes('"direction":"inbound"')).at(-1);
    step("the access log records the connection", log !== undefined && log.includes("src.identity"), log ?? "no access log line");

    say("applying an AuthorizationPolicy that denies sleep's identity (security.istio.io/v1, action DENY)");
    await cluster.applyManifest(
      "deny-sleep",
      [
        "apiVersion: security.istio.io/v1",
        "kind: AuthorizationPolicy",
        `metadata: { name: deny-sleep, namespace: ${NS.mesh} }`,
        `spec: { action: DENY, rules: [{ from: [{ source: { principals: ["cluster.local/ns/${NS.mesh}/sa/sleep"] } }] }] }`,
        "",
      ].join("\n"),
    );
    let denied = await curl(`${NS.mesh}/sleep`, `http://httpbin.${NS.mesh}:8000/get`);
    for (let i = 0; i < 30 && denied.ok; i++) {
      await new Promise((r) => setTimeout(r, 100));
      denied = await curl(`${NS.mesh}/sleep`, `http://httpbin.${NS.mesh}:8000/get`);
    }
    step("with the DENY policy the call is refused", !denied.ok, denied.out);
    await cluster.applyManifest("deny-sleep", null);
    let restored = await curl(`${NS.mesh}/sleep`, `http://httpbin.${NS.mesh}:8000/get`);
    for (let i = 0; i < 30 && !restored.ok; i++) {
      await new Promise((r) => setTimeout(r, 100));
      restored = await curl(`${NS.mesh}/sleep`, `http://httpbin.${NS.mesh}:8000/get`);
    }
    step("without it the call works again", restored.ok, restored.out);

    const result: DemoResult = {
      date: new Date().toISOString(),
      cluster: {
        nodes: cluster.plan.nodes.map((n) => ({ name: n.name, netns: n.netns, ip: n.ip })),
        pods: cluster.plan.pods.map((p) => ({ pod: `${p.namespace}/${p.name}`, ip: p.ip, node: p.node, ambient: p.namespace === NS.mesh })),
      },
      steps,
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
