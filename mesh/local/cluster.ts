// A running single-machine cluster: the topology, a ztunnel process per node with nftables capture,
// applications in pods, and the LOCAL_CONFIG that describes them. Shared by the netns tests, the
// benchmarks and `ambientctl local`.
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ErrorCode, MeshError } from "../shared/errors.ts";
import { run as defaultRun } from "../shared/exec.ts";
import { planServices, renderHosts, renderLocalConfig, type PlannedService, type PodMeta, type ServiceSpec } from "./config-render.ts";
import { renderKubeProxy } from "./kube-proxy.ts";
import { planTopology, type TopologyPlan } from "./plan.ts";
import { ProcessGroup, type ManagedProcess } from "./processes.ts";
import { Topology, type Runner } from "./topology.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const NODE_BIN = process.execPath;
export const ZTUNNEL_MAIN = join(ROOT, "mesh/ztunnel/main.ts");
/**
 * V8 flags for proxies: a small young generation keeps RSS low under load (short-lived buffers die
 * young either way); scavenges get more frequent but stay cheap.
 */
export const ZTUNNEL_NODE_FLAGS: string[] = (process.env.AL_ZTUNNEL_NODE_FLAGS ?? "--max-semi-space-size=2").split(" ").filter(Boolean);

export interface ClusterPod extends PodMeta {
  node: string;
  /** The application to run in the pod, if any. */
  app?: { cmd: string; args: string[] };
}

export interface ClusterSpec {
  prefix: string;
  nodes: string[];
  pods: ClusterPod[];
  services: ServiceSpec[];
  workDir: string;
  trustDomain?: string;
  ztunnelEnv?: Record<string, string>;
  /** How to run ztunnel; default: the TypeScript sources. Benchmarks pass the bundle (`npm run build`). */
  ztunnelCommand?: { cmd: string; args: string[] };
}

export class LocalCluster {
  readonly spec: ClusterSpec;
  readonly plan: TopologyPlan;
  readonly services: PlannedService[];
  readonly processes = new ProcessGroup();
  private readonly topology: Topology;
  private readonly run: Runner;
  private policies: unknown[] = [];

  constructor(spec: ClusterSpec, run: Runner = defaultRun) {
    this.spec = spec;
    this.run = run;
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

  async up(): Promise<void> {
    await mkdir(join(this.spec.workDir, "logs"), { recursive: true });
    await this.writeConfig();
    const hosts = new Map(this.plan.pods.map((p) => [p.netns, renderHosts(p, this.services)]));
    await this.topology.create(hosts);
    const rules = renderKubeProxy(this.services, this.plan.pods);
    for (const n of this.plan.nodes) {
      const r = await this.run("ip", ["netns", "exec", n.netns, "nft", "-f", "-"], rules);
      if (r.code !== 0) throw new MeshError(ErrorCode.Redirect, `installing service rules on ${n.name} failed: ${r.stderr.trim()}`);
    }
    for (const n of this.plan.nodes) this.startZtunnel(n.name);
    await Promise.all(this.plan.nodes.map((n) => this.waitReady(n.name)));
    for (const p of this.spec.pods) {
      if (!p.app) continue;
      const planned = this.pod(`${p.namespace}/${p.name}`);
      this.processes.start({ name: `app/${p.namespace}/${p.name}`, netns: planned.netns, cmd: p.app.cmd, args: p.app.args, logFile: join(this.spec.workDir, "logs", `app-${p.namespace}-${p.name}.log`) });
    }
  }

  startZtunnel(node: string): ManagedProcess {
    const n = this.node(node);
    return this.processes.start({
      name: `ztunnel/${node}`,
      netns: n.netns,
      cmd: this.spec.ztunnelCommand?.cmd ?? NODE_BIN,
      args: this.spec.ztunnelCommand?.args ?? [...ZTUNNEL_NODE_FLAGS, ZTUNNEL_MAIN],
      env: {
        NODE_NAME: node,
        LOCAL_CONFIG: this.configPath,
        CA_DIR: this.caDir,
        TRUST_DOMAIN: this.spec.trustDomain ?? "cluster.local",
        REDIRECT: "nft",
        CONNECTION_TERMINATION_DEADLINE: "2s",
        ...this.spec.ztunnelEnv,
      },
      logFile: join(this.spec.workDir, "logs", `ztunnel-${node}.log`),
    });
  }

  /** Polls the node's readiness endpoint from inside its namespace. */
  async waitReady(node: string, timeoutMs = 15_000): Promise<void> {
    const n = this.node(node);
    const deadline = Date.now() + timeoutMs;
    let last = "";
    while (Date.now() < deadline) {
      const proc = this.processes.get(`ztunnel/${node}`);
      if (!proc) {
        const logFile = join(this.spec.workDir, "logs", `ztunnel-${node}.log`);
        const tail = (await readFile(logFile, "utf8").catch(() => "")).trim().split("\n").slice(-5).join("\n  ");
        throw new MeshError(ErrorCode.Exec, `ztunnel on ${node} exited during start; the end of ${logFile}:\n  ${tail}`);
      }
      const r = await this.run("ip", ["netns", "exec", n.netns, "curl", "-s", "-m", "1", "http://127.0.0.1:15021/healthz/ready"]);
      if (r.code === 0 && r.stdout.startsWith("ready")) return;
      last = r.stdout.trim() || r.stderr.trim();
      await new Promise((res) => setTimeout(res, 100));
    }
    throw new MeshError(ErrorCode.Exec, `ztunnel on ${node} not ready after ${timeoutMs} ms (${last})`);
  }

  /** Replaces the policies (ztunnel's Authorization shape) and rewrites LOCAL_CONFIG atomically. */
  async setPolicies(policies: unknown[]): Promise<void> {
    this.policies = policies;
    await this.writeConfig();
  }

  private async writeConfig(): Promise<void> {
    const text = renderLocalConfig({ plan: this.plan, pods: this.spec.pods, services: this.services, policies: this.policies, trustDomain: this.spec.trustDomain ?? "cluster.local" });
    const tmp = `${this.configPath}.tmp`;
    await writeFile(tmp, text);
    await rename(tmp, this.configPath);
  }

  /** Runs a command inside a pod's namespace (with its hosts file) and returns its result. */
  exec(pod: string, cmd: string, args: string[]): ReturnType<Runner> {
    return this.run("ip", ["netns", "exec", this.pod(pod).netns, cmd, ...args]);
  }

  execInNode(node: string, cmd: string, args: string[]): ReturnType<Runner> {
    return this.run("ip", ["netns", "exec", this.node(node).netns, cmd, ...args]);
  }

  /** Stops every process, then removes every namespace (and with them links and nft rules). */
  async down(): Promise<void> {
    await this.processes.stopAll();
    await this.topology.destroy();
  }
}
