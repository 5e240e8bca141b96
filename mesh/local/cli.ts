#!/usr/bin/env node
// ambientctl: the command-line tool of ambient-lab. `ambientctl local ...` runs the mesh on this machine
// with network namespaces as nodes and pods (needs root).
import { spawn, spawnSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { stringify } from "yaml";
import { describeError } from "../shared/index.ts";
import { UsageError } from "../shared/index.ts";
import { CTL_USAGE, verifyCommand, ztunnelConfigCommand } from "../ctl/index.ts";
import { parseManifests } from "../control-plane/index.ts";
import { translatePolicies } from "../control-plane/index.ts";
import { DEFAULT_TRANSLATE_OPTIONS } from "../control-plane/index.ts";
import type { AuthorizationPolicy, PeerAuthentication } from "../control-plane/index.ts";
import { BenchRunError, parseBenchRun, renderBenchTable } from "../manifests/index.ts";
import { destroyFromState, LocalCluster } from "./cluster.ts";
import { defaultTopology } from "./default-topology.ts";
import { checkPrereqs, describeMissing } from "./prereqs.ts";
import { commandLine, describeExit, isOurProcess, type ExitInfo } from "./processes.ts";
import { runSupervisor, startSupervisor, supervisorRunning } from "./supervisor.ts";
import { ApplyError, type AppliedWorkload } from "./applied.ts";
import { commitWorkloads, isWorkload, planWorkloads, takeDeployments, workloadKey, type WorkloadObject } from "./apply-workloads.ts";
import { clusterPrefix, defaultStatePath, StateRecorder } from "./state.ts";
import { LABELS } from "../api/index.ts";
import { PROC, processName, componentKey, componentName } from "./process-key.ts";
import { renderStatus, type MeshMembership } from "./status-render.ts";
import { createProgress } from "./progress.ts";

const USAGE = `ambientctl local <command>     the mesh on this machine (below)
${CTL_USAGE.trimEnd()}
ambientctl bench results [--stack dev] [--file F]
                               the Pulumi stack's benchmark results (output benchmarkResults) as a table;
                               --file reads that output's JSON instead of asking the Pulumi CLI


  up [--nodes N] [--monitoring] [--token-ttl S]
                                 build the cluster and start the mesh under a supervisor that restarts what
                                 exits; on a cluster that is up, repairs what is missing; --monitoring adds
                                 Prometheus; --token-ttl sets bootstrap tokens' lifetime (default 12 h)
  status [--json]                health of every part, with restarts and last exits
  exec [--root] <ns>/<pod> -- <cmd...>
                                 run a command inside a pod as the pod's user (with its name resolution);
                                 --root as root; node/<name> or network (the control plane's) also work
  apply -f <file>                apply AuthorizationPolicy, PeerAuthentication, Gateway, HTTPRoute, GRPCRoute,
                                 Namespace and Service labels, and workloads: Pods and Deployments (a container's command
                                 runs as a program in the pod; injection and ambient labels apply) and
                                 istio-waypoint Gateways (their waypoint pod and Service start)
  delete -f <file>               remove what apply -f added
  logs <component>               control-plane, ztunnel/<node>, waypoint/<ns>/<pod>, sidecar/<ns>/<pod>, <ns>/<pod>
  down                           remove every namespace, rule, file and process the cluster created

State: ${defaultStatePath()} (AMBIENT_LAB_STATE_DIR changes the directory).
`;

const out = (s: string) => process.stdout.write(s.endsWith("\n") ? s : `${s}\n`);

function requireRoot(): void {
  if (process.platform !== "linux") throw new UsageError("ambientctl local needs Linux (network namespaces, nftables)");
  if (process.getuid?.() !== 0) throw new UsageError("ambientctl local needs root to create network namespaces: run it with sudo");
}

async function loadCluster(): Promise<{ recorder: StateRecorder; cluster: LocalCluster } | undefined> {
  const recorder = await StateRecorder.load(defaultStatePath());
  if (!recorder) return undefined;
  return { recorder, cluster: new LocalCluster(recorder.state.spec, undefined, { recorder }) };
}

async function mustLoad(): Promise<{ recorder: StateRecorder; cluster: LocalCluster }> {
  const c = await loadCluster();
  if (!c) throw new UsageError("no local cluster is running: start one with `ambientctl local up`");
  return c;
}

function processHealth(recorder: StateRecorder) {
  return recorder.state.processes.map((p) => ({ ...p, running: isOurProcess(p.pid, p.cmd) }));
}

/** Restarts and the last exit of a recorded process, for status. */
function history(p: { restarts?: number; lastExit?: ExitInfo } | undefined): { restarts: number; lastExit: string } {
  return { restarts: p?.restarts ?? 0, lastExit: describeExit(p?.lastExit) };
}

export async function statusReport(recorder: StateRecorder, cluster: LocalCluster) {
  const procs = processHealth(recorder);
  const proc = (name: string) => procs.find((p) => p.name === name);
  const cp = proc(processName(PROC.controlPlane));
  return {
    status: recorder.state.status,
    startedAt: recorder.state.startedAt,
    supervisor: { pid: recorder.state.supervisor?.pid ?? null, running: supervisorRunning(recorder.state) },
    nodes: cluster.plan.nodes.map((n) => ({ name: n.name, netns: n.netns, ip: n.ip, uplink: n.uplink })),
    pods: cluster.plan.pods.map((p) => {
      const spec = cluster.spec.pods.find((x) => x.namespace === p.namespace && x.name === p.name);
      const nsLabels = recorder.state.namespaceLabels[p.namespace];
      const ambient = nsLabels?.[LABELS.dataplaneMode] !== undefined ? nsLabels[LABELS.dataplaneMode] === "ambient" : (spec?.ambient ?? false);
      // A pod with its own proxy is in the mesh through it, and never captured.
      const mesh: MeshMembership = spec?.gateway ? "waypoint" : spec?.sidecar ? "sidecar" : ambient ? "ambient" : "no";
      return {
        namespace: p.namespace,
        name: p.name,
        netns: p.netns,
        ip: p.ip,
        node: p.node,
        serviceAccount: spec?.serviceAccount ?? "default",
        ambient: mesh === "ambient",
        mesh,
        app: spec?.app
          ? {
              running: proc(processName(PROC.app(`${p.namespace}/${p.name}`)))?.running ?? false,
              ...history(proc(processName(PROC.app(`${p.namespace}/${p.name}`)))),
            }
          : null,
      };
    }),
    services: cluster.services.map((s) => ({ namespace: s.namespace, name: s.name, vip: s.vip, ports: s.ports })),
    controlPlane: cp
      ? {
          pid: cp.pid,
          running: cp.running,
          ...history(cp),
          grpc: `${cluster.plan.bridgeIp}:15012`,
          admin: `http://${cluster.plan.bridgeIp}:15014`,
          netns: cluster.plan.bridgeNetns,
        }
      : null,
    prometheus: proc("prometheus")
      ? { pid: proc("prometheus")!.pid, running: proc("prometheus")!.running, url: cluster.prometheusUrl, netns: cluster.plan.bridgeNetns }
      : null,
    ztunnels: cluster.plan.nodes.map((n) => {
      const z = proc(processName(PROC.ztunnel(n.name)));
      return {
        node: n.name,
        pid: z?.pid ?? null,
        running: z?.running ?? false,
        ...history(z),
        netns: n.netns,
        metrics: `http://${n.ip}:15020/metrics`,
        readiness: `http://${n.ip}:15021/healthz/ready`,
        admin: "127.0.0.1:15000 (inside the node's netns)",
      };
    }),
    waypoints: cluster.spec.pods
      .filter((p) => p.gateway)
      .map((p) => {
        const w = proc(processName(PROC.waypoint(`${p.namespace}/${p.name}`)));
        const ip = cluster.pod(`${p.namespace}/${p.name}`).ip;
        return {
          gateway: `${p.namespace}/${p.gateway}`,
          pod: `${p.namespace}/${p.name}`,
          pid: w?.pid ?? null,
          running: w?.running ?? false,
          ...history(w),
          hbone: `${ip}:15008`,
          metrics: `http://${ip}:15020/metrics`,
        };
      }),
    sidecars: cluster.spec.pods
      .filter((p) => p.sidecar)
      .map((p) => {
        const s = proc(processName(PROC.sidecar(`${p.namespace}/${p.name}`)));
        return {
          pod: `${p.namespace}/${p.name}`,
          pid: s?.pid ?? null,
          running: s?.running ?? false,
          ...history(s),
          metrics: `http://${cluster.pod(`${p.namespace}/${p.name}`).ip}:15020/metrics`,
        };
      }),
  };
}

async function up(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { nodes: { type: "string", default: "2" }, monitoring: { type: "boolean", default: false }, "token-ttl": { type: "string" } },
    strict: true,
  });
  const tokenTtl = values["token-ttl"] === undefined ? undefined : Number(values["token-ttl"]);
  if (tokenTtl !== undefined && !(Number.isInteger(tokenTtl) && tokenTtl >= 2))
    throw new UsageError(`--token-ttl takes whole seconds, at least 2; got "${values["token-ttl"]}"`);
  requireRoot();
  const report = await checkPrereqs("local");
  if (values.monitoring) report.missing.push(...(await checkPrereqs("monitoring")).missing);
  const missing = describeMissing(report, "");
  if (missing) throw new UsageError(missing);
  const existing = await loadCluster();
  if (existing) {
    const { recorder } = existing;
    const supervised = supervisorRunning(recorder.state);
    if (recorder.state.status === "up" && supervised) {
      out("the local cluster is already up (its supervisor restarts any process that exits)");
      return status([]);
    }
    if (recorder.state.status === "starting" && supervised)
      throw new UsageError(`another \`ambientctl local up\` is building the cluster (supervisor pid ${recorder.state.supervisor!.pid})`);
    if (recorder.state.status === "up") {
      const down = processHealth(recorder)
        .filter((p) => !p.running)
        .map((p) => p.name);
      out(
        `the cluster's supervisor is not running; repairing (${down.length ? `not running: ${down.join(", ")}` : "every process still runs"}); the CA, tokens and applied objects are kept`,
      );
      await startSupervisor(recorder, (line) => out(line));
      return status([]);
    }
    out(`found an incomplete or broken cluster (status ${recorder.state.status}); removing it first`);
    await destroyFromState(recorder);
  }
  const stateDir = join(defaultStatePath(), "..");
  const spec = {
    ...(await defaultTopology({ nodes: Number(values.nodes), workDir: join(stateDir, "al-cluster"), prefix: clusterPrefix() })),
    monitoring: values.monitoring,
    ...(tokenTtl ? { tokenTtlSeconds: tokenTtl } : {}),
  };
  const recorder = StateRecorder.fresh(defaultStatePath(), spec);
  // up's steps: namespaces, control plane, ztunnels, waypoints, sidecars, applications (+ Prometheus).
  const progress = createProgress({ stream: process.stdout, expectedSteps: 6 + (spec.monitoring ? 1 : 0) });
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
    progress.fail("interrupted: removing what was created so far");
    void StateRecorder.load(recorder.path)
      .then((r) => (r ? destroyFromState(r) : undefined))
      .then(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    await startSupervisor(recorder, (step) => (step.startsWith("supervising") ? undefined : progress.step(step)));
  } catch (err) {
    if (interrupted) return 130;
    progress.fail(`failed: ${describeError(err)}`);
    throw err;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
  progress.done("cluster up");
  if (spec.monitoring) {
    const { cluster } = await mustLoad();
    out(
      `Prometheus: ${cluster.prometheusUrl} (inside the cluster network; e.g. sudo npx ambientctl local exec network -- curl -s '${cluster.prometheusUrl}/api/v1/query?query=istio_tcp_connections_opened_total')`,
    );
  }
  return status([]);
}

async function status(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { json: { type: "boolean", default: false } }, strict: true });
  const { recorder, cluster } = await mustLoad();
  const r = await statusReport(recorder, cluster);
  if (values.json) {
    out(JSON.stringify(r, null, 2));
    return 0;
  }
  process.stdout.write(renderStatus(r));
  return 0;
}

async function exec(args: string[]): Promise<number> {
  const dash = args.indexOf("--");
  const asRoot = args[0] === "--root";
  const rest = asRoot ? args.slice(1) : args;
  const target = rest[0];
  const cmd = dash >= 0 ? args.slice(dash + 1) : rest.slice(1);
  if (!target || cmd.length === 0) throw new UsageError("usage: ambientctl local exec [--root] <namespace>/<pod> -- <command...>");
  requireRoot();
  const { cluster } = await mustLoad();
  const infra = target === "network" || target.startsWith("node/");
  const netns = target === "network" ? cluster.plan.bridgeNetns : target.startsWith("node/") ? cluster.node(target.slice(5)).netns : cluster.pod(target).netns;
  // In a pod, as the pod's own user (kubectl exec runs as the container's user); --root as kubectl debug would.
  const [head, ...tail] = cmd;
  const argv = commandLine({ netns, cmd: head!, args: tail, ...(infra || asRoot ? {} : { runAs: cluster.users(target).app }) });
  return new Promise((resolve) => {
    const child = spawn("ip", argv, { stdio: "inherit" });
    child.on("exit", (code, signal) => resolve(code ?? (signal ? 128 : 1)));
    child.on("error", (err) => {
      process.stderr.write(`ambientctl: ${err.message}\n`);
      resolve(127);
    });
  });
}

const APPLY_KINDS = new Set(["AuthorizationPolicy", "PeerAuthentication", "Gateway", "HTTPRoute", "GRPCRoute", "Namespace", "Service", "Pod", "Deployment"]);

function manifestName(kind: string, ns: string, name: string): string {
  return `user-${kind.toLowerCase()}-${ns}-${name}`.replace(/[^a-z0-9-]/g, "-");
}

async function applyOrDelete(args: string[], del: boolean): Promise<number> {
  const { values } = parseArgs({ args, options: { filename: { type: "string", short: "f" } }, strict: true });
  if (!values.filename) throw new UsageError(`usage: ambientctl local ${del ? "delete" : "apply"} -f <file>`);
  requireRoot();
  const text =
    values.filename === "-"
      ? await new Promise<string>((r) => {
          let b = "";
          process.stdin.on("data", (d) => (b += d)).on("end", () => r(b));
        })
      : await readFile(values.filename, "utf8");
  const split = takeDeployments(text, values.filename);
  const parsed = parseManifests(split.rest, values.filename);
  const problems = [...split.errors, ...parsed.errors.map((e) => `${e.source}: ${e.reason}`)];
  for (const o of parsed.objects)
    if (!APPLY_KINDS.has(o.kind))
      problems.push(`${o.kind} ${o.object.metadata?.name}: ambientctl local applies ${[...APPLY_KINDS].join(", ")}; the cluster's nodes are fixed`);
  // The cluster's Services are fixed (their addresses and selectors); apply changes their labels only.
  const services = parsed.objects.filter((o) => o.kind === "Service");
  const aps = parsed.objects.filter((o) => o.kind === "AuthorizationPolicy").map((o) => o.object as AuthorizationPolicy);
  const pas = parsed.objects.filter((o) => o.kind === "PeerAuthentication").map((o) => o.object as PeerAuthentication);
  if (!del)
    for (const n of translatePolicies(aps, pas, DEFAULT_TRANSLATE_OPTIONS).notes.filter((x) => x.status === "Rejected"))
      problems.push(`${n.kind} ${n.namespace}/${n.name}: ${n.reason}`);
  const workloads: WorkloadObject[] = [...parsed.objects.filter((o) => isWorkload(o as WorkloadObject)), ...split.deployments] as WorkloadObject[];
  const { recorder, cluster } = await mustLoad();
  for (const o of services) {
    const key = `${o.object.metadata?.namespace}/${o.object.metadata?.name}`;
    if (!cluster.services.some((s) => `${s.namespace}/${s.name}` === key))
      problems.push(
        `Service ${key}: not a Service of this cluster (its Services are fixed; apply sets the labels of one, e.g. istio.io/use-waypoint); Services: ${cluster.services.map((s) => `${s.namespace}/${s.name}`).join(", ")}`,
      );
  }
  // The namespace labels pods are admitted under: this file's Namespace objects over the recorded ones.
  const labels = { ...recorder.state.namespaceLabels };
  for (const o of parsed.objects)
    if (o.kind === "Namespace") labels[o.object.metadata?.name ?? ""] = del ? {} : ((o.object.metadata?.labels ?? {}) as Record<string, string>);
  let planned: AppliedWorkload[] = [];
  if (!del && problems.length === 0) {
    try {
      planned = planWorkloads(recorder, workloads, labels);
    } catch (err) {
      if (!(err instanceof ApplyError)) throw err;
      problems.push(err.message);
    }
  }
  if (problems.length) {
    process.stderr.write(`nothing was ${del ? "deleted" : "applied"}:\n  ${problems.join("\n  ")}\n`);
    return 1;
  }
  // The control plane is what takes objects in: without it nothing would happen, so say so (finding 4).
  if (!(await cluster.controlPlaneReady())) {
    process.stderr.write(
      `nothing was ${del ? "deleted" : "applied"}: the control plane is not running or not ready (see \`ambientctl local status\` and \`ambientctl local logs control-plane\`); restart the cluster with \`ambientctl local down && ambientctl local up\`\n`,
    );
    return 1;
  }
  const progress = (line: string) => out(`  ${line}`);
  const workloadKeys = new Set(workloads.map(workloadKey));
  // Namespaces first (pods are admitted under their labels), pods before the objects that name them;
  // deleting, the other way round.
  const namespaces = parsed.objects.filter((o) => o.kind === "Namespace");
  const others = parsed.objects.filter((o) => o.kind !== "Namespace" && o.kind !== "Service" && !workloadKeys.has(workloadKey(o as WorkloadObject)));
  const setServiceLabels = async (c: LocalCluster) => {
    for (const o of services) {
      const [ns, name] = [o.object.metadata?.namespace ?? "", o.object.metadata?.name ?? ""];
      await c.setServiceLabels(ns, name, del ? null : ((o.object.metadata?.labels ?? {}) as Record<string, string>));
      out(
        `service/${name} in ${ns} labels ${del ? "reset" : "set"}${del || !(o.object as { spec?: unknown }).spec ? "" : " (its spec is the cluster's: only labels are applied)"}`,
      );
    }
  };
  if (!del) {
    // A namespace that only this file's pods create gets its labels once they exist.
    const exists = (o: (typeof namespaces)[number]) => cluster.plan.pods.some((p) => p.namespace === o.object.metadata?.name);
    for (const o of namespaces.filter(exists)) await setLabels(cluster, o.object.metadata?.name ?? "", labels[o.object.metadata?.name ?? ""] ?? {}, false);
    if (planned.length) {
      await commitWorkloads(recorder, { set: planned, remove: [] }, progress);
      for (const w of planned) out(`${describeKey(w.key)} applied (${w.pods.length} pod${w.pods.length === 1 ? "" : "s"})`);
    }
    const reloaded = (await mustLoad()).cluster;
    await setServiceLabels(reloaded);
    for (const o of namespaces.filter((x) => !exists(x)))
      await setLabels(reloaded, o.object.metadata?.name ?? "", labels[o.object.metadata?.name ?? ""] ?? {}, false);
  }
  for (const o of others) {
    const ns = o.object.metadata?.namespace ?? "";
    const name = o.object.metadata?.name ?? "";
    await cluster.applyManifest(manifestName(o.kind, ns, name), del ? null : stringify(o.object));
    out(`${o.kind.toLowerCase()}/${name} in ${ns} ${del ? "deleted" : "applied"}`);
  }
  if (del) {
    await setServiceLabels(cluster);
    const known = new Set((recorder.state.applied ?? []).map((a) => a.key));
    const gone = [...workloadKeys].filter((k) => known.has(k));
    for (const k of workloadKeys) if (!known.has(k)) out(`${k}: not applied, nothing to delete`);
    if (gone.length) {
      await commitWorkloads(recorder, { set: [], remove: gone }, progress);
      for (const k of gone) out(`${describeKey(k)} deleted`);
    }
    const after = (await mustLoad()).cluster;
    for (const o of namespaces)
      if (after.plan.pods.some((p) => p.namespace === o.object.metadata?.name)) await setLabels(after, o.object.metadata?.name ?? "", {}, true);
  }
  return 0;
}

/** "Pod/ns/name" -> "pod/name in ns", as the other objects are reported. */
function describeKey(key: string): string {
  const [kind, ns, name] = key.split("/");
  return `${kind!.toLowerCase()}/${name} in ${ns}`;
}

async function setLabels(cluster: LocalCluster, name: string, labels: Record<string, string>, reset: boolean): Promise<void> {
  await cluster.setNamespaceLabels(name, labels);
  out(`namespace/${name} labels ${reset ? "reset" : "set"}`);
}

async function logs(args: string[]): Promise<number> {
  const component = args[0];
  if (!component)
    throw new UsageError("usage: ambientctl local logs <control-plane | ztunnel/<node> | waypoint/<ns>/<pod> | sidecar/<ns>/<pod> | prometheus | <ns>/<pod>>");
  const { recorder } = await mustLoad();
  const key = componentKey(component);
  const p = key && recorder.state.processes.find((x) => x.name === processName(key));
  if (!p) throw new UsageError(`no component ${component}; components: ${recorder.state.processes.map((x) => componentName(x.name)).join(", ")}`);
  process.stdout.write(await readFile(p.logFile, "utf8").catch(() => ""));
  return 0;
}

async function down(): Promise<number> {
  requireRoot();
  const recorder = await StateRecorder.load(defaultStatePath());
  if (!recorder) {
    out("no local cluster to remove");
    return 0;
  }
  const problems = await destroyFromState(recorder);
  if (problems.length) {
    process.stderr.write(`some parts could not be removed:\n  ${problems.join("\n  ")}\nrun \`ambientctl local down\` again\n`);
    return 1;
  }
  out(`removed ${recorder.state.namespaces.length} namespaces and ${recorder.state.processes.length} processes`);
  return 0;
}

/** The stack's `benchmarkResults` output, from the Pulumi CLI or a file, as a table. */
async function benchResults(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { stack: { type: "string", default: "dev" }, file: { type: "string" } }, strict: true });
  let text: string;
  if (values.file) text = await readFile(values.file, "utf8");
  else {
    const r = spawnSync("pulumi", ["stack", "output", "benchmarkResults", "--json", "--stack", values.stack], { encoding: "utf8" });
    if (r.error)
      throw new UsageError("the Pulumi CLI is not installed: install it, or pass --file with `pulumi stack output benchmarkResults --json` saved elsewhere");
    if (r.status !== 0) throw new UsageError(`pulumi stack output failed for stack ${values.stack}: ${r.stderr.trim()}`);
    text = r.stdout;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UsageError("the benchmark results are not JSON: expected `pulumi stack output benchmarkResults --json`");
  }
  if (!parsed || typeof parsed !== "object" || Object.keys(parsed).length === 0)
    throw new UsageError("the stack has no benchmark results yet: deploy it with benchmark modes set (ambient-lab:benchmark.modes)");
  let results;
  try {
    results = parseBenchRun(parsed, values.file ?? `stack ${values.stack}'s benchmarkResults`);
  } catch (err) {
    if (err instanceof BenchRunError) throw new UsageError(err.message);
    throw err;
  }
  out(renderBenchTable(results));
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  const [scope, command, ...rest] = argv;
  const ctlDeps = { out, err: (s: string) => process.stderr.write(s) };
  if (scope === "verify") return verifyCommand(argv.slice(1), ctlDeps);
  if (scope === "ztunnel-config") return ztunnelConfigCommand(argv.slice(1), ctlDeps);
  if (scope === "--help" || scope === "-h") return (void out(USAGE), 0);
  if (!scope) throw new UsageError(USAGE);
  if (scope !== "local" && scope !== "bench") throw new UsageError(`unknown command "${scope}"\n\n${USAGE}`);
  if (!command || command === "--help" || command === "-h") {
    out(USAGE);
    return command ? 0 : 2;
  }
  if (scope === "bench") {
    if (command !== "results") throw new UsageError(`unknown command "bench ${command}"\n\n${USAGE}`);
    return benchResults(rest);
  }
  switch (command) {
    case "up":
      return up(rest);
    case "status":
      return status(rest);
    case "exec":
      return exec(rest);
    case "apply":
      return applyOrDelete(rest, false);
    case "delete":
      return applyOrDelete(rest, true);
    case "logs":
      return logs(rest);
    case "down":
      return down();
    case "supervise":
      // Internal: the daemon `up` starts (see supervisor.ts); it keeps running until `down`.
      requireRoot();
      await runSupervisor(process.env.AMBIENT_LAB_STATE ?? defaultStatePath());
      return new Promise<number>(() => undefined);
    default:
      throw new UsageError(`unknown command "local ${command}"\n\n${USAGE}`);
  }
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith("/ambientctl")) {
  // A reader that stops early (`status | head`) closes the pipe: that ends the output, not in a crash.
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw err;
  });
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (err: unknown) => {
      // parseArgs' own errors (an unknown option, a missing value) are usage errors too.
      const usage = err instanceof UsageError || String((err as NodeJS.ErrnoException).code).startsWith("ERR_PARSE_ARGS");
      process.stderr.write(`ambientctl: ${usage ? (err as Error).message : describeError(err)}\n`);
      process.exitCode = usage ? 2 : 1;
    },
  );
}
