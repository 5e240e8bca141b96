// A running single-machine cluster: its network namespaces, the mesh's pods (started from the pod specs
// the Kubernetes manifests render: mesh-pods.ts), the applications, and the files the control plane or
// the ztunnels read. Shared by the netns tests, the benchmarks and `ambientctl local`. What the cluster
// is lives in cluster-view.ts; how a pod becomes a process in mesh-pods.ts and pod-process.ts; the
// kubelet's file work in pod-volumes.ts; restarts in processes.ts.
import { chmod, chown, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { DEFAULT_CLUSTER_DOMAIN, ErrorCode, MeshError } from "../shared/index.ts";
import { controlPlaneEndpoint } from "../manifests/index.ts";
import { run as defaultRun } from "../shared/index.ts";
import { ClusterView, CONTROL_PLANE_UID, podSecretsDir, type ClusterPod, type ClusterSpec, type PodUsers } from "./cluster-view.ts";
import { renderHosts, renderLocalConfig, type PlannedService } from "./config-render.ts";
import { localEntrypoint, meshImages } from "./images.ts";
import { renderKubeProxy } from "./kube-proxy.ts";
import { renderClusterManifests } from "./manifests-render.ts";
import { controlPlanePod, MESH_NAMESPACE, meshPods, resolvePod, sidecarPod, waypointPod, ztunnelPod, type LocalPod, type ResolvedPod } from "./mesh-pods.ts";
import { addPodBatches, type PlannedNode, type PlannedPod, type TopologyPlan } from "./plan.ts";
import { allowTraverse, chownTree, projectVolumes, refreshVolumes } from "./pod-volumes.ts";
import { logFileName, PROC, processName, type ProcessKey } from "./process-key.ts";
import { commandLine, isOurProcess, ProcessGroup, stopPid, type ManagedProcess, type ProcessGroupOptions } from "./processes.ts";
import { renderPrometheusConfig } from "./prometheus.ts";
import type { StateRecorder } from "./state.ts";
import { destroyNamespaces, NETNS_ETC, Topology, type Runner } from "./topology.ts";

export { ClusterView, CONTROL_PLANE_UID, POD_UID_BASE, podSecretsDir, podUsers, type ClusterPod, type ClusterSpec, type PodUsers } from "./cluster-view.ts";
export { LOCAL_IMAGES, meshImages, NODE_BIN, ROOT } from "./images.ts";

/** The PATH a container image usually sets. */
const CONTAINER_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export class LocalCluster {
  /** Replaced when applied workloads change the cluster (reconcile). */
  view: ClusterView;
  readonly processes: ProcessGroup;
  readonly recorder: StateRecorder | undefined;
  private readonly topology: Topology;
  private readonly run: Runner;
  private policies: unknown[] = [];
  /** Namespaces reconcile created (applied pods): removed by down() too, with or without a record. */
  private readonly added: string[] = [];

  constructor(
    spec: ClusterSpec,
    run: Runner = defaultRun,
    opts: { recorder?: StateRecorder; detached?: boolean; onExit?: ProcessGroupOptions["onExit"] } = {},
  ) {
    this.view = new ClusterView(spec);
    this.run = run;
    this.recorder = opts.recorder;
    const rec = opts.recorder;
    this.processes = new ProcessGroup({
      detached: opts.detached ?? false,
      ...(rec
        ? {
            onStart: (p) =>
              rec.addProcess({
                name: p.name,
                pid: p.pid,
                netns: p.netns,
                logFile: p.logFile,
                cmd: p.cmd,
                spawn: p.spec,
                restarts: p.restarts,
                ...(p.lastExit ? { lastExit: p.lastExit } : {}),
              }),
            onStop: (name) => rec.removeProcess(name),
            onExit: (p, exit, restartInMs) => {
              void rec.processExited(p.name, exit);
              opts.onExit?.(p, exit, restartInMs);
            },
          }
        : {}),
    });
    this.topology = new Topology(this.view.plan, run);
  }

  get spec(): ClusterSpec {
    return this.view.spec;
  }
  get plan(): TopologyPlan {
    return this.view.plan;
  }
  get services(): PlannedService[] {
    return this.view.services;
  }
  get mode(): "control-plane" | "local-config" {
    return this.view.mode;
  }
  get caDir(): string {
    return this.view.caDir;
  }
  get prometheusUrl(): string {
    return this.view.prometheusUrl;
  }
  users(pod: string): PodUsers {
    return this.view.users(pod);
  }
  pod(pod: string): PlannedPod {
    return this.view.pod(pod);
  }
  node(name: string): PlannedNode {
    return this.view.node(name);
  }
  service(name: string): PlannedService {
    return this.view.service(name);
  }

  async up(progress: (step: string) => void = () => undefined): Promise<void> {
    const v = this.view;
    await this.recorder?.save();
    await mkdir(v.logsDir, { recursive: true });
    // The CA key and every bootstrap token live here: the control plane's user only, never a pod's.
    // (The local-config mode's CA_DIR is created 0700 by whichever ztunnel comes first.)
    await mkdir(v.controlPlaneStateDir, { recursive: true, mode: 0o700 });
    await chmod(v.controlPlaneStateDir, 0o700);
    if (this.mode === "control-plane") {
      await chown(v.controlPlaneStateDir, CONTROL_PLANE_UID, CONTROL_PLANE_UID);
      await allowTraverse(v.controlPlaneStateDir, dirname(this.spec.workDir));
      await mkdir(v.manifestsDir, { recursive: true });
      await this.writeClusterManifests();
    } else {
      await this.writeConfig();
    }
    progress(`creating ${this.plan.namespaces.length} network namespaces (${this.plan.nodes.length} nodes, ${this.plan.pods.length} pods)`);
    await this.topology.create(this.hostsFiles(), this.recorder ? (ns) => this.recorder!.addNamespace(ns) : undefined);
    const rules = renderKubeProxy(this.services, this.plan.pods);
    for (const n of this.plan.nodes) {
      const r = await this.run("ip", ["netns", "exec", n.netns, "nft", "-f", "-"], rules);
      if (r.code !== 0) throw new MeshError(ErrorCode.Redirect, `installing service rules on ${n.name} failed: ${r.stderr.trim()}`);
    }
    const pods = meshPods(v);
    const group = (kind: ProcessKey["kind"]) => pods.filter((p) => p.key.kind === kind);
    const steps: Array<[ProcessKey["kind"], (n: number) => string]> = [
      ["control-plane", () => "starting the control plane"],
      ["ztunnel", (n) => `starting ${n} ztunnels`],
      ["waypoint", (n) => `starting ${n} waypoint${n > 1 ? "s" : ""}`],
      ["sidecar", (n) => `starting ${n} sidecar proxies`],
    ];
    // As a kubelet with ordered dependencies: each kind is ready before the next starts.
    for (const [kind, say] of steps) {
      const these = group(kind);
      if (these.length === 0) continue;
      progress(say(these.length));
      const started = [];
      for (const p of these) started.push(await this.startPod(p));
      await Promise.all(started.map((r) => this.waitPodReady(r)));
    }
    progress("starting the applications");
    for (const p of this.spec.pods) await this.startApp(p);
    if (this.spec.monitoring) {
      progress("starting Prometheus");
      await this.startPrometheus();
    }
    await this.recorder?.setStatus("up");
  }

  private async startApp(p: ClusterPod): Promise<void> {
    if (!p.app) return;
    const name = `${p.namespace}/${p.name}`;
    const users = this.users(name);
    for (const dir of p.app.ownedDirs ?? []) await chownTree(dir, users.app);
    await this.processes.start({
      name: processName(PROC.app(name)),
      netns: this.pod(name).netns,
      cmd: p.app.cmd,
      args: p.app.args,
      runAs: users.app,
      logFile: join(this.view.logsDir, logFileName(PROC.app(name))),
      // An applied pod's command is found as a container's is, on a standard PATH, not on root's.
      ...(p.applied ? { env: { PATH: CONTAINER_PATH, HOME: "/" } } : {}),
    }).recorded;
  }

  /**
   * Makes the running cluster match `next` (the spec with applied workloads, applied.ts), as the
   * kubelet, the endpoint controller and kube-proxy would: removed pods stop and lose their network
   * namespace; new pods get theirs (their node's side too), every hosts file and node's service rules
   * follow the services, the control plane reads the new objects, a sidecar or waypoint starts and is
   * ready before the application, and an ambient pod's application starts once its node's ztunnel
   * knows it (so its first connection is captured). Only pods and services `apply` added may change.
   */
  async reconcile(next: ClusterSpec, say: (line: string) => void = () => undefined): Promise<void> {
    const key = (p: { namespace: string; name: string }) => `${p.namespace}/${p.name}`;
    const before = this.view;
    const after = new ClusterView(next);
    const now = new Set(after.spec.pods.map(key));
    const had = new Set(before.spec.pods.map(key));
    const removed = before.spec.pods.filter((p) => !now.has(key(p)));
    const added = after.spec.pods.filter((p) => !had.has(key(p)));
    for (const p of [...removed, ...added])
      if (p.applied === undefined) throw new MeshError(ErrorCode.Config, `pod ${key(p)} was created with the cluster; only applied pods come and go`);
    for (const p of removed) {
      const name = key(p);
      for (const proc of [PROC.app(name), PROC.sidecar(name), PROC.waypoint(name)]) await this.processes.stop(processName(proc));
      await destroyNamespaces([before.pod(name).netns], this.run);
      await this.recorder?.removeNamespace(before.pod(name).netns);
      const at = this.added.indexOf(before.pod(name).netns);
      if (at >= 0) this.added.splice(at, 1);
      await rm(join(podSecretsDir(this.spec.prefix), `${p.namespace}-${p.name}`), { recursive: true, force: true });
      say(`pod ${name} removed`);
    }
    this.view = after;
    for (const p of added) {
      const planned = after.pod(key(p));
      await this.recorder?.addNamespace(planned.netns);
      this.added.push(planned.netns);
      await this.mustRun("ip", ["netns", "add", planned.netns]);
      for (const b of addPodBatches(after.plan, planned)) await this.mustRun("ip", ["-n", b.netns, "-batch", "-"], b.script);
    }
    for (const [ns, text] of this.hostsFiles()) {
      await mkdir(join(NETNS_ETC, ns), { recursive: true });
      await writeFile(join(NETNS_ETC, ns, "hosts"), text);
    }
    const rules = renderKubeProxy(this.services, this.plan.pods);
    for (const n of this.plan.nodes) await this.mustRun("ip", ["netns", "exec", n.netns, "nft", "-f", "-"], rules);
    if (this.mode === "control-plane") await this.writeClusterManifests();
    else await this.writeConfig();
    for (const p of added) {
      const name = key(p);
      if (p.gateway || p.sidecar) {
        const r = await this.startPod(p.gateway ? waypointPod(this.view, name) : sidecarPod(this.view, name));
        await this.waitPodReady(r);
      }
      if (p.ambient) await this.waitEnrolled(p.node, after.pod(name).ip);
      await this.startApp(p);
      say(
        `pod ${name} running on ${p.node} at ${after.pod(name).ip}${p.sidecar ? " with a sidecar" : p.ambient ? " (ambient)" : p.gateway ? " (waypoint)" : ""}`,
      );
    }
  }

  /** Waits until `node`'s ztunnel has the pod at `ip` in its config (its capture rules follow). */
  private async waitEnrolled(node: string, ip: string, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const url = "http://127.0.0.1:15000/config_dump";
    while (Date.now() < deadline) {
      const r = await this.run("ip", ["netns", "exec", this.node(node).netns, "curl", "-s", "-m", "1", url]);
      if (r.code === 0 && r.stdout.includes(`"${ip}"`)) return;
      await new Promise((res) => setTimeout(res, 100));
    }
    throw new MeshError(ErrorCode.Exec, `the ztunnel on ${node} did not learn of ${ip} within ${timeoutMs} ms; see \`ambientctl local logs control-plane\``);
  }

  private async mustRun(cmd: string, args: string[], input?: string): Promise<void> {
    const r = await this.run(cmd, args, input);
    if (r.code !== 0) throw new MeshError(ErrorCode.Exec, `${cmd} ${args.join(" ")} failed: ${r.stderr.trim() || `exit ${r.code}`}`);
  }

  /** Every namespace's hosts file: pods see services and the control plane by name, nodes the control plane. */
  private hostsFiles(): Map<string, string> {
    // The name the pod specs dial (controlPlaneEndpoint), and its fully qualified form.
    const host = new URL(controlPlaneEndpoint(MESH_NAMESPACE, this.view.trustDomain).xdsAddress).hostname;
    const cp = `${this.plan.bridgeIp} ${host} ${host}.${DEFAULT_CLUSTER_DOMAIN}\n`;
    const hosts = new Map(this.plan.pods.map((p) => [p.netns, renderHosts(p, this.services) + cp]));
    for (const n of this.plan.nodes) hosts.set(n.netns, `127.0.0.1 localhost\n${cp}`);
    return hosts;
  }

  private resolve(pod: LocalPod): ResolvedPod {
    return resolvePod(this.view, pod, (ref) => localEntrypoint(ref, meshImages(), { bundles: this.spec.bundles ?? false }));
  }

  /** Projects a mesh pod's volumes and starts its process; resolves once the process is recorded. */
  private async startPod(pod: LocalPod): Promise<ResolvedPod & { process: ManagedProcess }> {
    const r = this.resolve(pod);
    await projectVolumes(this.spec.prefix, r, async () => {
      const hint =
        pod.key.kind === "sidecar"
          ? "is the pod labelled as a sidecar"
          : pod.key.kind === "waypoint"
            ? "is its Gateway applied"
            : "is the control plane running";
      return `${hint}? the end of the control plane's log:\n  ${await this.logTail(logFileName(PROC.controlPlane))}`;
    });
    const process = this.processes.start(r.spawn);
    await process.recorded;
    return { ...r, process };
  }

  private async startPrometheus(): Promise<void> {
    const dir = join(this.spec.workDir, "prometheus");
    await mkdir(join(dir, "data"), { recursive: true });
    await this.writeFileAtomic(
      join(dir, "prometheus.yml"),
      renderPrometheusConfig(
        this.plan,
        this.mode === "control-plane",
        this.spec.pods.flatMap((p) => (p.gateway ? [{ namespace: p.namespace, name: p.name, gateway: p.gateway }] : [])),
        this.spec.pods.filter((p) => p.sidecar),
      ),
    );
    await this.processes.start({
      name: processName(PROC.prometheus),
      netns: this.plan.bridgeNetns,
      cmd: "prometheus",
      args: [
        `--config.file=${join(dir, "prometheus.yml")}`,
        `--storage.tsdb.path=${join(dir, "data")}`,
        `--web.listen-address=${this.plan.bridgeIp}:9090`,
        "--storage.tsdb.retention.time=1d",
      ],
      logFile: join(this.view.logsDir, logFileName(PROC.prometheus)),
    }).recorded;
  }

  /** One probe of the control plane's readiness endpoint (false when it is not running). */
  async controlPlaneReady(): Promise<boolean> {
    if (this.mode !== "control-plane") return false;
    const url = this.resolve(controlPlanePod(this.view)).readyUrl!;
    const r = await this.run("ip", ["netns", "exec", this.plan.bridgeNetns, "curl", "-sf", "-m", "1", url]);
    return r.code === 0;
  }

  /**
   * The kubelet's readiness probe: polls the container's readinessProbe from inside the pod's network
   * namespace until it answers 2xx, and fails at once with the end of the log if the process exits.
   */
  private async waitPodReady(r: ResolvedPod, timeoutMs = 20_000): Promise<void> {
    if (!r.readyUrl) return;
    const deadline = Date.now() + timeoutMs;
    let last = "";
    while (Date.now() < deadline) {
      if (!this.processes.get(r.spawn.name))
        throw new MeshError(ErrorCode.Exec, `${r.spawn.name} exited during start; the end of its log:\n  ${await this.logTail(basename(r.spawn.logFile))}`);
      const res = await this.run("ip", ["netns", "exec", r.spawn.netns, "curl", "-s", "-m", "1", "-w", "\n%{http_code}", r.readyUrl]);
      const code = Number(res.stdout.trim().split("\n").pop());
      if (res.code === 0 && code >= 200 && code < 400) return;
      last = res.stdout.trim().split("\n").slice(0, -1).join(" ") || res.stderr.trim();
      await new Promise((res) => setTimeout(res, 100));
    }
    throw new MeshError(ErrorCode.Exec, `${r.spawn.name} not ready after ${timeoutMs} ms (${last})`);
  }

  private async logTail(file: string): Promise<string> {
    return (await readFile(join(this.view.logsDir, file), "utf8").catch(() => "")).trim().split("\n").slice(-5).join("\n  ");
  }

  /** Starts (again) the ztunnel of `node`, from the DaemonSet's pod spec. */
  async startZtunnel(node: string): Promise<ManagedProcess> {
    return (await this.startPod(ztunnelPod(this.view, node))).process;
  }

  /** Waits for the ztunnel of `node` to be ready. */
  waitReady(node: string, timeoutMs = 15_000): Promise<void> {
    return this.waitPodReady(this.resolve(ztunnelPod(this.view, node)), timeoutMs);
  }

  /** Starts a waypoint pod's proxy, from the waypoint Deployment's pod spec. */
  async startWaypoint(podName: string): Promise<void> {
    await this.startPod(waypointPod(this.view, podName));
  }

  waitWaypointReady(podName: string): Promise<void> {
    return this.waitPodReady(this.resolve(waypointPod(this.view, podName)));
  }

  /** Sidecar mode: the injected proxy container of a pod. Needs the control plane (the pod's token). */
  async startSidecar(podName: string): Promise<void> {
    await this.startPod(sidecarPod(this.view, podName));
  }

  waitSidecarReady(podName: string): Promise<void> {
    return this.waitPodReady(this.resolve(sidecarPod(this.view, podName)));
  }

  /** Re-copies every projected file whose original the control plane rotated; returns how many changed. */
  async refreshProjectedTokens(): Promise<number> {
    return refreshVolumes(meshPods(this.view).map((p) => this.resolve(p)));
  }

  /** local-config mode: replaces the policies (ztunnel's Authorization shape) in LOCAL_CONFIG. */
  async setPolicies(policies: unknown[]): Promise<void> {
    if (this.mode !== "local-config") throw new MeshError(ErrorCode.Config, "setPolicies is for local-config mode; with a control plane use applyManifest");
    this.policies = policies;
    await this.writeConfig();
  }

  /** control-plane mode: writes (or, with null, removes) a file of Kubernetes objects the control plane watches. */
  async applyManifest(name: string, yaml: string | null): Promise<void> {
    if (this.mode !== "control-plane") throw new MeshError(ErrorCode.Config, "applyManifest needs the control plane; in local-config mode use setPolicies");
    if (!/^[a-z0-9][-a-z0-9]*$/.test(name)) throw new MeshError(ErrorCode.Config, `manifest name "${name}" must be lowercase letters, digits and -`);
    const path = join(this.view.manifestsDir, `${name}.yaml`);
    if (yaml === null) await rm(path, { force: true });
    else await this.writeFileAtomic(path, yaml);
  }

  private async writeClusterManifests(): Promise<void> {
    await this.writeFileAtomic(
      join(this.view.manifestsDir, "cluster.yaml"),
      renderClusterManifests(
        this.plan,
        this.spec.pods,
        this.services,
        this.recorder?.state.namespaceLabels ?? {},
        this.spec.gateways ?? [],
        this.recorder?.state.serviceLabels ?? {},
      ),
    );
  }

  /**
   * control-plane mode: replaces a Service's labels (istio.io/use-waypoint binds it to a waypoint of its
   * own), or with null restores those it was created with, and tells the control plane.
   */
  async setServiceLabels(namespace: string, name: string, labels: Record<string, string> | null): Promise<void> {
    if (!this.services.some((s) => s.namespace === namespace && s.name === name)) {
      throw new MeshError(
        ErrorCode.Config,
        `Service ${namespace}/${name} does not exist in this cluster; Services: ${this.services.map((s) => `${s.namespace}/${s.name}`).join(", ")}`,
      );
    }
    if (!this.recorder) throw new MeshError(ErrorCode.Config, "Service labels need a recorded cluster (ambientctl local)");
    await this.recorder.setServiceLabels(`${namespace}/${name}`, labels);
    await this.writeClusterManifests();
  }

  /** control-plane mode: replaces a namespace's labels (enrolment, waypoint use) and tells the control plane. */
  async setNamespaceLabels(namespace: string, labels: Record<string, string>): Promise<void> {
    if (!this.plan.pods.some((p) => p.namespace === namespace)) {
      throw new MeshError(
        ErrorCode.Config,
        `namespace ${namespace} does not exist in this cluster; namespaces: ${[...new Set(this.plan.pods.map((p) => p.namespace))].join(", ")}`,
      );
    }
    if (!this.recorder) throw new MeshError(ErrorCode.Config, "namespace labels need a recorded cluster (ambientctl local)");
    await this.recorder.setNamespaceLabels(namespace, labels);
    await this.writeClusterManifests();
  }

  private async writeConfig(): Promise<void> {
    const text = renderLocalConfig({
      plan: this.plan,
      pods: this.spec.pods,
      services: this.services,
      policies: this.policies,
      trustDomain: this.view.trustDomain,
    });
    await this.writeFileAtomic(this.view.configPath, text);
  }

  private async writeFileAtomic(path: string, text: string): Promise<void> {
    // Written beside the target under a name the watchers ignore, then renamed into place.
    const tmp = join(dirname(path), `.${basename(path)}.tmp`);
    await writeFile(tmp, text);
    await rename(tmp, path);
  }

  /** Runs a command inside a pod (its namespace and hosts file) as the pod's application user. */
  exec(pod: string, cmd: string, args: string[], opts: { timeoutMs?: number } = {}): ReturnType<Runner> {
    return this.run("ip", commandLine({ netns: this.pod(pod).netns, cmd, args, runAs: this.users(pod).app }), undefined, opts);
  }

  /** As root in the pod's namespace: for tools that inspect it (nft), as `kubectl debug` with privileges. */
  execAsRoot(pod: string, cmd: string, args: string[]): ReturnType<Runner> {
    return this.run("ip", ["netns", "exec", this.pod(pod).netns, cmd, ...args]);
  }

  execInNode(node: string, cmd: string, args: string[]): ReturnType<Runner> {
    return this.run("ip", ["netns", "exec", this.node(node).netns, cmd, ...args]);
  }

  /** Stops every process, then removes every namespace (and with them links and nft rules). */
  async down(): Promise<void> {
    await this.processes.stopAll();
    await destroyNamespaces([...this.added].reverse(), this.run);
    this.added.length = 0;
    await this.topology.destroy();
    await rm(podSecretsDir(this.spec.prefix), { recursive: true, force: true });
    if (this.recorder) await destroyFromState(this.recorder, this.run);
  }
}

/**
 * Removes everything a recorded cluster created: its processes (by PID, only if the PID still runs the
 * recorded command), its namespaces (by recorded name; links and nft rules go with them), its
 * per-namespace files and work directory, then the record. Idempotent; returns what it could not do.
 */
export async function destroyFromState(recorder: StateRecorder, run: Runner = defaultRun): Promise<string[]> {
  await recorder.setStatus("stopping");
  // The supervisor first (it stops its own processes): otherwise it would restart what we stop.
  const sup = recorder.state.supervisor;
  if (sup && isOurProcess(sup.pid, sup.cmd)) await stopPid(sup.pid, 20_000);
  const problems: string[] = [];
  await Promise.all(
    recorder.state.processes.map(async (p) => {
      if (isOurProcess(p.pid, p.cmd)) await stopPid(p.pid, 8000);
    }),
  );
  problems.push(...(await destroyNamespaces([...recorder.state.namespaces].reverse(), run)));
  if (/^al-/.test(recorder.state.spec.prefix)) await rm(podSecretsDir(recorder.state.spec.prefix), { recursive: true, force: true });
  const workDir = recorder.state.spec.workDir;
  if (workDir && /\/al-[^/]*$/.test(workDir)) await rm(workDir, { recursive: true, force: true });
  if (problems.length === 0) await recorder.remove();
  return problems;
}
