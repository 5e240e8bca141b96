// Pure: what a single-machine cluster is, before and while it runs: the spec a user or test gives, the
// network plan made from it, where its files live, and lookups by pod, node and service with errors
// that list what exists. LocalCluster runs it; the pod builders and the CLI read it.
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ErrorCode, MeshError, DEFAULT_TRUST_DOMAIN } from "../shared/index.ts";
import { planServices, type PlannedService, type PodMeta, type ServiceSpec } from "./config-render.ts";
import type { GatewaySpec } from "./manifests-render.ts";
import { planTopology, type PlannedNode, type PlannedPod, type TopologyPlan } from "./plan.ts";

/**
 * Pods' users, as a kubelet gives each pod its own (runAsUser): the application's uid and its proxy's
 * (sidecar or waypoint), per pod, so no pod can read another's files or its own proxy's token. Sidecar
 * capture rules exclude the pod's proxy uid (Istio uses 1337 in every pod; here pods share one
 * filesystem, so each gets its own).
 */
export const POD_UID_BASE = 40_000;
/** The control plane's user (Istio's 1337 in its own pod), apart from every application pod's. */
export const CONTROL_PLANE_UID = POD_UID_BASE - 1;

export interface PodUsers {
  app: number;
  proxy: number;
}

/** The users of the pod at `index` in the cluster spec's pod list. */
export function podUsers(index: number): PodUsers {
  return { app: POD_UID_BASE + 2 * index, proxy: POD_UID_BASE + 2 * index + 1 };
}

/**
 * Where pods' projected volumes live (service-account tokens, the trust bundle), one directory per pod
 * and volume, owned by the user that reads it, mode 0500, under a root directory others may traverse but
 * not list; removed by down. The kubelet's volume directories, on one machine.
 */
export function podSecretsDir(prefix: string): string {
  return join(tmpdir(), `${prefix}-pod-secrets`);
}

export interface ClusterPod extends PodMeta {
  node: string;
  /** Its place on the node (plan.ts); pods created with the cluster take their order instead. */
  slot?: number;
  /** Which users it runs as (podUsers); pods created with the cluster take their index instead. */
  userIndex?: number;
  /** Added by `ambientctl local apply`: the applied object's `<Kind>/<namespace>/<name>`. */
  applied?: string;
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
  /** Added to the environment of every ztunnel (node and sidecar), after the pod spec's. */
  ztunnelEnv?: Record<string, string>;
  /** Added to the environment of every waypoint, after the pod spec's. */
  waypointEnv?: Record<string, string>;
  /** Lifetime of the control plane's bootstrap tokens in seconds (default: the control plane's, 12 h). */
  tokenTtlSeconds?: number;
  /** Run the images' esbuild bundles (dist/, `npm run build`) instead of the sources: what ships. Benchmarks do. */
  bundles?: boolean;
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

export class ClusterView {
  readonly spec: ClusterSpec;
  readonly plan: TopologyPlan;
  readonly services: PlannedService[];

  constructor(spec: ClusterSpec) {
    this.spec = spec;
    this.plan = planTopology({ prefix: spec.prefix, nodes: spec.nodes.map((name) => ({ name })), pods: spec.pods });
    this.services = planServices(spec.services);
  }

  get mode(): "control-plane" | "local-config" {
    return this.spec.mode ?? "control-plane";
  }

  get trustDomain(): string {
    return this.spec.trustDomain ?? DEFAULT_TRUST_DOMAIN;
  }

  get configPath(): string {
    return join(this.spec.workDir, "local-config.yaml");
  }

  get caDir(): string {
    return join(this.spec.workDir, "ca");
  }

  /** The directory of Kubernetes YAML the control plane watches. */
  get manifestsDir(): string {
    return join(this.spec.workDir, "manifests");
  }

  get controlPlaneStateDir(): string {
    return join(this.spec.workDir, "control-plane");
  }

  get logsDir(): string {
    return join(this.spec.workDir, "logs");
  }

  get prometheusUrl(): string {
    return `http://${this.plan.bridgeIp}:9090`;
  }

  podSpec(namespaceName: string): ClusterPod {
    const p = this.spec.pods.find((x) => `${x.namespace}/${x.name}` === namespaceName);
    if (!p) throw new MeshError(ErrorCode.Config, `no pod ${namespaceName}; pods are ${this.spec.pods.map((x) => `${x.namespace}/${x.name}`).join(", ")}`);
    return p;
  }

  /** The users a pod's processes run as. */
  users(namespaceName: string): PodUsers {
    const i = this.spec.pods.findIndex((p) => `${p.namespace}/${p.name}` === namespaceName);
    if (i < 0) throw new MeshError(ErrorCode.Config, `no pod ${namespaceName}`);
    return podUsers(this.spec.pods[i]!.userIndex ?? i);
  }

  pod(namespaceName: string): PlannedPod {
    const p = this.plan.pods.find((x) => `${x.namespace}/${x.name}` === namespaceName);
    if (!p) throw new MeshError(ErrorCode.Config, `no pod ${namespaceName}; pods are ${this.plan.pods.map((x) => `${x.namespace}/${x.name}`).join(", ")}`);
    return p;
  }

  node(name: string): PlannedNode {
    const n = this.plan.nodes.find((x) => x.name === name);
    if (!n) throw new MeshError(ErrorCode.Config, `no node ${name}; nodes are ${this.plan.nodes.map((x) => x.name).join(", ")}`);
    return n;
  }

  service(namespaceName: string): PlannedService {
    const s = this.services.find((x) => `${x.namespace}/${x.name}` === namespaceName);
    if (!s) throw new MeshError(ErrorCode.Config, `no service ${namespaceName}`);
    return s;
  }
}
