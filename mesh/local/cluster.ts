// A running single-machine cluster: the topology, a ztunnel process per node with nftables capture,
// applications in pods, and the LOCAL_CONFIG that describes them. Shared by the netns tests, the
// benchmarks and `ambientctl local`.
import { randomBytes } from "node:crypto";
import { chmod, chown, mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { identityTokenName } from "../control-plane/index.ts";
import { ErrorCode, MeshError, DEFAULT_TRUST_DOMAIN } from "../shared/index.ts";
import { run as defaultRun } from "../shared/index.ts";
import { planServices, renderHosts, renderLocalConfig, type PlannedService, type PodMeta, type ServiceSpec } from "./config-render.ts";
import { renderKubeProxy } from "./kube-proxy.ts";
import { renderClusterManifests, type GatewaySpec } from "./manifests-render.ts";
import { renderPrometheusConfig } from "./prometheus.ts";
import { planTopology, type TopologyPlan } from "./plan.ts";
import { commandLine, ProcessGroup, type ManagedProcess, type ProcessGroupOptions } from "./processes.ts";
import { destroyNamespaces, Topology, type Runner } from "./topology.ts";
import { isOurProcess, stopPid } from "./processes.ts";
import type { StateRecorder } from "./state.ts";
import { PROC, processName } from "./process-key.ts";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const NODE_BIN = process.execPath;
export const ZTUNNEL_MAIN = join(ROOT, "mesh/ztunnel/main.ts");
export const CONTROL_PLANE_MAIN = join(ROOT, "mesh/control-plane/main.ts");
export const WAYPOINT_MAIN = join(ROOT, "mesh/waypoint/main.ts");
/**
 * Pods' users, as a kubelet gives each pod its own (runAsUser): the application's uid and its proxy's
 * (sidecar or waypoint), per pod, so no pod can read another's files or its own proxy's token. Sidecar
 * capture rules exclude the pod's proxy uid (Istio uses 1337 in every pod; here pods share one
 * filesystem, so each gets its own).
 */
export const POD_UID_BASE = 40_000;

export interface PodUsers {
  app: number;
  proxy: number;
}

/** Pure: the users of the pod at `index` in the cluster spec's pod list. */
export function podUsers(index: number): PodUsers {
  return { app: POD_UID_BASE + 2 * index, proxy: POD_UID_BASE + 2 * index + 1 };
}

/**
 * Where pods' projected secrets live (their service-account token and the trust bundle), one directory
 * per pod owned by its proxy user, mode 0500, under a root directory others may traverse but not list;
 * removed by down. The kubelet's projected-token volume, on one machine.
 */
export function podSecretsDir(prefix: string): string {
  return join(tmpdir(), `${prefix}-pod-secrets`);
}
/**
 * V8 flags for proxies: a small young generation keeps RSS low under load (short-lived buffers die
 * young either way); scavenges get more frequent but stay cheap.
 */
export const ZTUNNEL_NODE_FLAGS: string[] = (process.env.AL_ZTUNNEL_NODE_FLAGS ?? "--max-semi-space-size=2").split(" ").filter(Boolean);

export interface ClusterPod extends PodMeta {
  node: string;
  /** The application to run in the pod, if any. */
  /** The application; `ownedDirs` are given to the pod's user (its writable files). */
  app?: { cmd: string; args: string[]; ownedDirs?: string[] };
}

export interface ClusterSpec {
  prefix: string;
  nodes: string[];
  pods: ClusterPod[];
  services: ServiceSpec[];
  workDir: string;
  trustDomain?: string;
  ztunnelEnv?: Record<string, string>;
  /** Lifetime of the control plane's bootstrap tokens in seconds (default: the control plane's, 12 h). */
  tokenTtlSeconds?: number;
  /** How to run ztunnel; default: the TypeScript sources. Benchmarks pass the bundle (`npm run build`). */
  ztunnelCommand?: { cmd: string; args: string[] };
  /** How to run waypoints; default: the TypeScript sources. */
  waypointCommand?: { cmd: string; args: string[] };
  /**
   * "control-plane" (default): a control plane reads the cluster as Kubernetes objects and streams config
   * to the ztunnels. "local-config": no control plane; every ztunnel reads one LOCAL_CONFIG file.
   */
  mode?: "control-plane" | "local-config";
  /** Run a Prometheus server (Debian's package) in the cluster network, scraping the mesh. */
  monitoring?: boolean;
  /** Waypoint Gateways; each is served by the pod whose `gateway` names it. */
  gateways?: GatewaySpec[];
}

export class LocalCluster {
  readonly spec: ClusterSpec;
  readonly plan: TopologyPlan;
  readonly services: PlannedService[];
  readonly processes: ProcessGroup;
  readonly recorder: StateRecorder | undefined;
  private readonly topology: Topology;
  private readonly run: Runner;
  private policies: unknown[] = [];

  constructor(
    spec: ClusterSpec,
    run: Runner = defaultRun,
    opts: { recorder?: StateRecorder; detached?: boolean; onExit?: ProcessGroupOptions["onExit"] } = {},
  ) {
    this.spec = spec;
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
    this.plan = planTopology({ prefix: spec.prefix, nodes: spec.nodes.map((name) => ({ name })), pods: spec.pods });
    this.services = planServices(spec.services);
    this.topology = new Topology(this.plan, run);
  }

  get configPath(): string {
    return join(this.spec.workDir, "local-config.yaml");
  }

  get caDir(): string {
    return join(this.spec.workDir, "ca");
  }

  get mode(): "control-plane" | "local-config" {
    return this.spec.mode ?? "control-plane";
  }

  /** The directory of Kubernetes YAML the control plane watches. */
  get manifestsDir(): string {
    return join(this.spec.workDir, "manifests");
  }

  get controlPlaneStateDir(): string {
    return join(this.spec.workDir, "control-plane");
  }

  get controlPlaneAddress(): string {
    return `https://${this.plan.bridgeIp}:15012`;
  }

  /** The users a pod's processes run as. */
  users(namespaceName: string): PodUsers {
    const i = this.spec.pods.findIndex((p) => `${p.namespace}/${p.name}` === namespaceName);
    if (i < 0) throw new MeshError(ErrorCode.Config, `no pod ${namespaceName}`);
    return podUsers(i);
  }

  pod(namespaceName: string): (typeof this.plan.pods)[number] {
    const p = this.plan.pods.find((x) => `${x.namespace}/${x.name}` === namespaceName);
    if (!p) throw new MeshError(ErrorCode.Config, `no pod ${namespaceName}; pods are ${this.plan.pods.map((x) => `${x.namespace}/${x.name}`).join(", ")}`);
    return p;
  }

  node(name: string): (typeof this.plan.nodes)[number] {
    const n = this.plan.nodes.find((x) => x.name === name);
    if (!n) throw new MeshError(ErrorCode.Config, `no node ${name}`);
    return n;
  }

  service(namespaceName: string): PlannedService {
    const s = this.services.find((x) => `${x.namespace}/${x.name}` === namespaceName);
    if (!s) throw new MeshError(ErrorCode.Config, `no service ${namespaceName}`);
    return s;
  }

  async up(progress: (step: string) => void = () => undefined): Promise<void> {
    await this.recorder?.save();
    await mkdir(join(this.spec.workDir, "logs"), { recursive: true });
    // The CA key and every bootstrap token live here: root only, never readable from a pod. (The
    // local-config mode's CA_DIR is created 0700 by whichever ztunnel comes first.)
    await mkdir(this.controlPlaneStateDir, { recursive: true, mode: 0o700 });
    await chmod(this.controlPlaneStateDir, 0o700);
    if (this.mode === "control-plane") {
      await mkdir(this.manifestsDir, { recursive: true });
      await this.writeClusterManifests();
    } else {
      await this.writeConfig();
    }
    const hosts = new Map(this.plan.pods.map((p) => [p.netns, renderHosts(p, this.services)]));
    progress(`creating ${this.plan.namespaces.length} network namespaces (${this.plan.nodes.length} nodes, ${this.plan.pods.length} pods)`);
    await this.topology.create(hosts, this.recorder ? (ns) => this.recorder!.addNamespace(ns) : undefined);
    const rules = renderKubeProxy(this.services, this.plan.pods);
    for (const n of this.plan.nodes) {
      const r = await this.run("ip", ["netns", "exec", n.netns, "nft", "-f", "-"], rules);
      if (r.code !== 0) throw new MeshError(ErrorCode.Redirect, `installing service rules on ${n.name} failed: ${r.stderr.trim()}`);
    }
    if (this.mode === "control-plane") {
      progress("starting the control plane");
      await this.startControlPlane().recorded;
      await this.waitControlPlaneReady();
    }
    progress(`starting ${this.plan.nodes.length} ztunnels`);
    for (const n of this.plan.nodes) await this.startZtunnel(n.name).recorded;
    await Promise.all(this.plan.nodes.map((n) => this.waitReady(n.name)));
    const waypoints = this.spec.pods.filter((p) => p.gateway);
    if (waypoints.length) {
      progress(`starting ${waypoints.length} waypoint${waypoints.length > 1 ? "s" : ""}`);
      for (const p of waypoints) await this.startWaypoint(`${p.namespace}/${p.name}`);
      await Promise.all(waypoints.map((p) => this.waitWaypointReady(`${p.namespace}/${p.name}`)));
    }
    const sidecars = this.spec.pods.filter((p) => p.sidecar);
    if (sidecars.length) {
      progress(`starting ${sidecars.length} sidecar proxies`);
      for (const p of sidecars) await this.startSidecar(`${p.namespace}/${p.name}`);
      await Promise.all(
        sidecars.map((p) =>
          this.waitProxyReady(processName(PROC.sidecar(`${p.namespace}/${p.name}`)), `${p.namespace}/${p.name}`, `sidecar-${p.namespace}-${p.name}.log`),
        ),
      );
    }
    progress("starting the applications");
    for (const p of this.spec.pods) {
      if (!p.app) continue;
      const planned = this.pod(`${p.namespace}/${p.name}`);
      const users = this.users(`${p.namespace}/${p.name}`);
      for (const dir of p.app.ownedDirs ?? []) await chownTree(dir, users.app);
      await this.processes.start({
        name: processName(PROC.app(`${p.namespace}/${p.name}`)),
        netns: planned.netns,
        cmd: p.app.cmd,
        args: p.app.args,
        runAs: users.app,
        logFile: join(this.spec.workDir, "logs", `app-${p.namespace}-${p.name}.log`),
      }).recorded;
    }
    if (this.spec.monitoring) {
      progress("starting Prometheus");
      await this.startPrometheus();
    }
    await this.recorder?.setStatus("up");
  }

  get prometheusUrl(): string {
    return `http://${this.plan.bridgeIp}:9090`;
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
      logFile: join(this.spec.workDir, "logs", "prometheus.log"),
    }).recorded;
  }

  startControlPlane(): ManagedProcess {
    return this.processes.start({
      name: processName(PROC.controlPlane),
      netns: this.plan.bridgeNetns,
      cmd: NODE_BIN,
      args: [CONTROL_PLANE_MAIN],
      env: {
        DISCOVERY: "files",
        CONFIG_DIR: this.manifestsDir,
        STATE_DIR: this.controlPlaneStateDir,
        BOOTSTRAP_NODES: this.plan.nodes.map((n) => n.name).join(","),
        TRUST_DOMAIN: this.spec.trustDomain ?? DEFAULT_TRUST_DOMAIN,
        GRPC_ADDRESS: `${this.plan.bridgeIp}:15012`,
        ADMIN_ADDRESS: `${this.plan.bridgeIp}:15014`,
        DEBOUNCE: "50",
        ...(this.spec.tokenTtlSeconds ? { BOOTSTRAP_TOKEN_TTL: String(this.spec.tokenTtlSeconds) } : {}),
      },
      logFile: join(this.spec.workDir, "logs", "control-plane.log"),
    });
  }

  /** One probe of the control plane's readiness endpoint (false when it is not running). */
  async controlPlaneReady(): Promise<boolean> {
    if (this.mode !== "control-plane") return false;
    const r = await this.run("ip", ["netns", "exec", this.plan.bridgeNetns, "curl", "-s", "-m", "1", `http://${this.plan.bridgeIp}:15014/ready`]);
    return r.code === 0 && r.stdout.startsWith("ready");
  }

  private waitControlPlaneReady(timeoutMs = 20_000): Promise<void> {
    return this.waitHttpReady({
      what: "the control plane",
      process: processName(PROC.controlPlane),
      netns: this.plan.bridgeNetns,
      url: `http://${this.plan.bridgeIp}:15014/ready`,
      logFile: "control-plane.log",
      timeoutMs,
    });
  }

  /**
   * The one readiness loop: polls a URL from inside a network namespace (as the kubelet's probe would)
   * until it answers "ready", and fails at once with the end of the log if the process exits.
   */
  private async waitHttpReady(o: { what: string; process: string; netns: string; url: string; logFile: string; timeoutMs: number }): Promise<void> {
    const deadline = Date.now() + o.timeoutMs;
    let last = "";
    while (Date.now() < deadline) {
      if (!this.processes.get(o.process))
        throw new MeshError(ErrorCode.Exec, `${o.what} exited during start; the end of its log:\n  ${await this.logTail(o.logFile)}`);
      const r = await this.run("ip", ["netns", "exec", o.netns, "curl", "-s", "-m", "1", o.url]);
      if (r.code === 0 && r.stdout.startsWith("ready")) return;
      last = r.stdout.trim() || r.stderr.trim();
      await new Promise((res) => setTimeout(res, 100));
    }
    throw new MeshError(ErrorCode.Exec, `${o.what} not ready after ${o.timeoutMs} ms (${last})`);
  }

  private async logTail(file: string): Promise<string> {
    return (await readFile(join(this.spec.workDir, "logs", file), "utf8").catch(() => "")).trim().split("\n").slice(-5).join("\n  ");
  }

  startZtunnel(node: string): ManagedProcess {
    const n = this.node(node);
    const source: Record<string, string> =
      this.mode === "control-plane"
        ? {
            XDS_ADDRESS: this.controlPlaneAddress,
            ROOT_CERT: join(this.controlPlaneStateDir, "root-cert.pem"),
            TOKEN_FILE: join(this.controlPlaneStateDir, "tokens", `${node}.token`),
          }
        : { LOCAL_CONFIG: this.configPath, CA_DIR: this.caDir };
    return this.processes.start({
      name: processName(PROC.ztunnel(node)),
      netns: n.netns,
      cmd: this.spec.ztunnelCommand?.cmd ?? NODE_BIN,
      args: this.spec.ztunnelCommand?.args ?? [...ZTUNNEL_NODE_FLAGS, ZTUNNEL_MAIN],
      env: {
        NODE_NAME: node,
        ...source,
        TRUST_DOMAIN: this.spec.trustDomain ?? DEFAULT_TRUST_DOMAIN,
        REDIRECT: "nft",
        CONNECTION_TERMINATION_DEADLINE: "2s",
        ...this.spec.ztunnelEnv,
      },
      logFile: join(this.spec.workDir, "logs", `ztunnel-${node}.log`),
    });
  }

  /** A waypoint pod runs the waypoint program for its Gateway, with the Gateway's service account. */
  async startWaypoint(podName: string): Promise<void> {
    const planned = this.pod(podName);
    const spec = this.spec.pods.find((p) => `${p.namespace}/${p.name}` === podName);
    if (!spec?.gateway) throw new MeshError(ErrorCode.Config, `pod ${podName} is not a waypoint`);
    const users = this.users(podName);
    let source: Record<string, string>;
    if (this.mode === "control-plane") {
      const p = this.projection(podName)!;
      const { token, rootCert } = await this.projectSecrets(podName, p.source, users.proxy);
      source = { XDS_ADDRESS: this.controlPlaneAddress, ROOT_CERT: rootCert, TOKEN_FILE: token };
    } else {
      source = { LOCAL_CONFIG: this.configPath, CA_DIR: this.caDir };
    }
    await this.processes.start({
      name: processName(PROC.waypoint(podName)),
      netns: planned.netns,
      cmd: this.spec.waypointCommand?.cmd ?? NODE_BIN,
      args: this.spec.waypointCommand?.args ?? [...ZTUNNEL_NODE_FLAGS, WAYPOINT_MAIN],
      env: {
        WAYPOINT_NAME: spec.gateway,
        POD_NAMESPACE: spec.namespace,
        SERVICE_ACCOUNT: spec.serviceAccount,
        ...source,
        TRUST_DOMAIN: this.spec.trustDomain ?? DEFAULT_TRUST_DOMAIN,
        CONNECTION_TERMINATION_DEADLINE: "2s",
      },
      // Its own user (local-config mode reads the file CA, so it stays root there: that mode is for tests).
      ...(this.mode === "control-plane" ? { runAs: users.proxy } : {}),
      logFile: join(this.spec.workDir, "logs", `waypoint-${spec.namespace}-${spec.name}.log`),
    }).recorded;
  }

  waitWaypointReady(podName: string): Promise<void> {
    return this.waitProxyReady(processName(PROC.waypoint(podName)), podName, `waypoint-${podName.replace("/", "-")}.log`);
  }

  /** Polls a proxy's readiness endpoint (15021) from inside its pod. */
  waitProxyReady(process: string, podName: string, logFile: string, timeoutMs = 15_000): Promise<void> {
    return this.waitHttpReady({ what: process, process, netns: this.pod(podName).netns, url: "http://127.0.0.1:15021/healthz/ready", logFile, timeoutMs });
  }

  /**
   * Sidecar mode: our ztunnel in the pod's own network namespace, serving only that pod, as an
   * injected sidecar runs it. It installs its capture rules as root and then runs as the pod's proxy user,
   * so it reads its token from a copy only that user can read. Needs the control plane (the pod's token).
   */
  async startSidecar(podName: string): Promise<void> {
    const planned = this.pod(podName);
    const spec = this.spec.pods.find((p) => `${p.namespace}/${p.name}` === podName)!;
    if (this.mode !== "control-plane") throw new MeshError(ErrorCode.Config, `sidecar pod ${podName} needs the control plane (mode "control-plane")`);
    const users = this.users(podName);
    const { token, rootCert } = await this.projectSecrets(podName, this.projection(podName)!.source, users.proxy);
    await this.processes.start({
      name: processName(PROC.sidecar(podName)),
      netns: planned.netns,
      cmd: this.spec.ztunnelCommand?.cmd ?? NODE_BIN,
      args: this.spec.ztunnelCommand?.args ?? [...ZTUNNEL_NODE_FLAGS, ZTUNNEL_MAIN],
      env: {
        NODE_NAME: planned.node,
        SIDECAR_POD_IP: planned.ip,
        REDIRECT: "sidecar",
        PROXY_UID: String(users.proxy),
        XDS_ADDRESS: this.controlPlaneAddress,
        ROOT_CERT: rootCert,
        TOKEN_FILE: token,
        TRUST_DOMAIN: this.spec.trustDomain ?? DEFAULT_TRUST_DOMAIN,
        CONNECTION_TERMINATION_DEADLINE: "2s",
        ...this.spec.ztunnelEnv,
      },
      logFile: join(this.spec.workDir, "logs", `sidecar-${spec.namespace}-${spec.name}.log`),
    }).recorded;
  }

  /** Where a sidecar's or waypoint's token comes from (the control plane's file) and where its copy lives. */
  projection(podName: string): { source: string; target: string; uid: number } | undefined {
    const spec = this.spec.pods.find((p) => `${p.namespace}/${p.name}` === podName);
    if (!spec || !(spec.sidecar || spec.gateway) || this.mode !== "control-plane") return undefined;
    return {
      source: join(this.controlPlaneStateDir, "tokens", `${identityTokenName(spec.namespace, spec.serviceAccount)}.token`),
      target: join(podSecretsDir(this.spec.prefix), podName.replace("/", "-"), "token"),
      uid: this.users(podName).proxy,
    };
  }

  /**
   * Projects a pod's service-account token and the trust bundle into the pod's own secrets directory,
   * readable only by `uid` (its proxy), as the kubelet mounts a projected token into one container.
   */
  private async projectSecrets(podName: string, tokenSource: string, uid: number): Promise<{ token: string; rootCert: string }> {
    // The control plane writes the token once it has read the pod (sidecar label) or Gateway (waypoint).
    for (let i = 0; i < 100 && !(await stat(tokenSource).catch(() => undefined)); i++) await new Promise((r) => setTimeout(r, 50));
    if (!(await stat(tokenSource).catch(() => undefined))) {
      throw new MeshError(
        ErrorCode.Exec,
        `the control plane wrote no token for ${podName} (${tokenSource}); is the pod labelled as a sidecar, or its Gateway applied? the end of its log:\n  ${await this.logTail("control-plane.log")}`,
      );
    }
    const root = podSecretsDir(this.spec.prefix);
    await mkdir(root, { recursive: true, mode: 0o711 });
    await chmod(root, 0o711);
    const dir = join(root, podName.replace("/", "-"));
    await mkdir(dir, { recursive: true });
    await chown(dir, uid, uid);
    await chmod(dir, 0o500);
    const token = join(dir, "token");
    const rootCert = join(dir, "root-cert.pem");
    await writeSecret(rootCert, await readFile(join(this.controlPlaneStateDir, "root-cert.pem")), uid, 0o444);
    await writeSecret(token, await readFile(tokenSource), uid, 0o400);
    return { token, rootCert };
  }

  /** Re-copies every projected token whose original the control plane rotated; returns how many changed. */
  async refreshProjectedTokens(): Promise<number> {
    let changed = 0;
    for (const p of this.spec.pods.map((x) => this.projection(`${x.namespace}/${x.name}`)).filter((x) => x !== undefined)) {
      const [src, dst] = await Promise.all([readFile(p.source).catch(() => undefined), readFile(p.target).catch(() => undefined)]);
      // Only copies that exist (projectSecrets makes them when the proxy starts) are kept up to date.
      if (!src || !dst || src.equals(dst)) continue;
      await writeSecret(p.target, src, p.uid, 0o400);
      changed++;
    }
    return changed;
  }

  /** Polls the node's readiness endpoint from inside its namespace. */
  waitReady(node: string, timeoutMs = 15_000): Promise<void> {
    return this.waitHttpReady({
      what: `ztunnel on ${node}`,
      process: processName(PROC.ztunnel(node)),
      netns: this.node(node).netns,
      url: "http://127.0.0.1:15021/healthz/ready",
      logFile: `ztunnel-${node}.log`,
      timeoutMs,
    });
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
    const path = join(this.manifestsDir, `${name}.yaml`);
    if (yaml === null) await rm(path, { force: true });
    else await this.writeFileAtomic(path, yaml);
  }

  private async writeClusterManifests(): Promise<void> {
    await this.writeFileAtomic(
      join(this.manifestsDir, "cluster.yaml"),
      renderClusterManifests(this.plan, this.spec.pods, this.services, this.recorder?.state.namespaceLabels ?? {}, this.spec.gateways ?? []),
    );
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
      trustDomain: this.spec.trustDomain ?? DEFAULT_TRUST_DOMAIN,
    });
    await this.writeFileAtomic(this.configPath, text);
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

/** Gives a directory tree to `uid`, and lets that user traverse (not list) its ancestors under the temp dir. */
async function chownTree(dir: string, uid: number): Promise<void> {
  const walk = async (path: string): Promise<void> => {
    await chown(path, uid, uid);
    const st = await stat(path);
    if (!st.isDirectory()) return;
    for (const entry of await readdir(path)) await walk(join(path, entry));
  };
  await walk(dir);
  for (let parent = dirname(dir); parent.startsWith(tmpdir() + "/") || parent.startsWith(ROOT); parent = dirname(parent)) {
    const st = await stat(parent);
    if ((st.mode & 0o001) === 0) await chmod(parent, (st.mode & 0o7777) | 0o001);
    if (parent === dirname(parent)) break;
  }
}

/** Writes a file for one user atomically (beside the target, then renamed), with its mode and owner set first. */
async function writeSecret(path: string, data: Buffer, uid: number, mode: number): Promise<void> {
  const tmp = `${path}.${randomBytes(4).toString("hex")}.tmp`;
  await writeFile(tmp, data, { mode });
  await chown(tmp, uid, uid);
  await chmod(tmp, mode);
  await rename(tmp, path);
}
