// Pure: workloads applied to a running single-machine cluster (`ambientctl local apply -f`), as the API
// server's admission, the scheduler and the controllers would turn them into pods:
//   Pod          one pod; the injection webhook's rules decide its sidecar (injectionDecision), the
//                namespace's or pod's istio.io/dataplane-mode enrols it in ambient
//   Deployment   spec.replicas pods named <name>-<i> from its template (at most MAX_REPLICAS)
//   Gateway      class istio-waypoint: its waypoint pod and Service, as Istio's deployment controller
//                creates them (the Gateway object itself goes to the control plane like any manifest)
// There is no image runtime here: a container's `command` and `args` run as a host program in the pod's
// network namespace, as the pod's own user; the image is not pulled (a pod without a command is refused
// with the reason). Each pod gets a node (spec.nodeName, else the node with the fewest pods), a slot on
// it and a user index that no later change moves (plan.ts, cluster-view.ts).
import { injectionDecision, WAYPOINT_CLASS } from "../control-plane/index.ts";
import { LABELS } from "../api/index.ts";
import type { ClusterPod, ClusterSpec } from "./cluster-view.ts";
import type { ServiceSpec } from "./config-render.ts";
import type { GatewaySpec } from "./manifests-render.ts";
import { MESH_NAMESPACE } from "./mesh-pods.ts";
import { nextSlot, type TopologyPlan } from "./plan.ts";

export const MAX_REPLICAS = 10;
const NAME_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** What one applied object adds to the cluster; kept as a file per object until it is deleted. */
export interface AppliedWorkload {
  /** `<Kind>/<namespace>/<name>`: what `delete -f` names. */
  key: string;
  pods: ClusterPod[];
  services: ServiceSpec[];
  gateways: GatewaySpec[];
}

interface ContainerLike {
  name?: string;
  command?: string[];
  args?: string[];
}

interface PodTemplateLike {
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: { nodeName?: string; serviceAccountName?: string; hostNetwork?: boolean; containers?: ContainerLike[]; initContainers?: ContainerLike[] };
}

export interface ApplyContext {
  spec: ClusterSpec;
  plan: TopologyPlan;
  /** Labels of each namespace as the control plane sees them (recorded overrides included). */
  namespaceLabels: (namespace: string) => Readonly<Record<string, string>>;
  /** Workloads applied before (their pods hold nodes, slots and users too). */
  applied: readonly AppliedWorkload[];
}

export class ApplyError extends Error {}

/** Turns one applied object into its pods (and Services), or throws ApplyError saying what to change. */
export function workloadFrom(kind: string, obj: { metadata?: PodTemplateLike["metadata"]; spec?: unknown }, ctx: ApplyContext): AppliedWorkload {
  const namespace = obj.metadata?.namespace ?? "default";
  const name = obj.metadata?.name ?? "";
  const key = `${kind}/${namespace}/${name}`;
  if (!NAME_RE.test(name) || !NAME_RE.test(namespace)) throw new ApplyError(`${key}: name and namespace must be DNS labels`);
  if (namespace === MESH_NAMESPACE) throw new ApplyError(`${key}: ${MESH_NAMESPACE} holds the mesh's own pods`);
  const taken = new Set([...ctx.spec.pods, ...ctx.applied.flatMap((a) => a.pods)].map((p) => `${p.namespace}/${p.name}`));
  const places = new Places(ctx);
  const fresh = (podName: string) => {
    if (taken.has(`${namespace}/${podName}`)) throw new ApplyError(`${key}: pod ${namespace}/${podName} already exists`);
    taken.add(`${namespace}/${podName}`);
  };
  if (kind === "Pod") {
    fresh(name);
    return { key, pods: [podFrom(key, name, namespace, obj as PodTemplateLike, ctx, places)], services: [], gateways: [] };
  }
  if (kind === "Deployment") {
    const d = obj.spec as { replicas?: number; template?: PodTemplateLike } | undefined;
    const replicas = d?.replicas ?? 1;
    if (!Number.isInteger(replicas) || replicas < 0 || replicas > MAX_REPLICAS)
      throw new ApplyError(`${key}: replicas must be 0..${MAX_REPLICAS}, got ${d?.replicas}`);
    if (!d?.template) throw new ApplyError(`${key}: spec.template is missing`);
    const pods = Array.from({ length: replicas }, (_, i) => {
      fresh(`${name}-${i}`);
      return podFrom(key, `${name}-${i}`, namespace, d.template!, ctx, places);
    });
    return { key, pods, services: [], gateways: [] };
  }
  if (kind === "Gateway") {
    const g = obj.spec as { gatewayClassName?: string } | undefined;
    if (g?.gatewayClassName !== WAYPOINT_CLASS) return { key, pods: [], services: [], gateways: [] };
    fresh(name);
    if (ctx.spec.services.some((s) => s.namespace === namespace && s.name === name))
      throw new ApplyError(`${key}: Service ${namespace}/${name} already exists`);
    const waypointFor = obj.metadata?.labels?.[LABELS.waypointFor];
    const pod: ClusterPod = { namespace, name, serviceAccount: name, ambient: false, gateway: name, ...places.take(undefined, key) };
    return {
      key,
      pods: [pod],
      // The waypoint's Service, as the deployment controller makes it: HBONE on 15008, named for the Gateway.
      services: [
        { namespace, name, selector: [name], ports: [{ port: 15008, targetPort: 15008 }], labels: { [LABELS.gatewayName]: name }, vipIndex: nextVip(ctx) },
      ],
      gateways: [{ namespace, name, ...(waypointFor === "workload" || waypointFor === "all" ? { waypointFor } : {}) }],
    };
  }
  throw new ApplyError(`${key}: only Pod, Deployment and Gateway create workloads`);
}

/** One past every VIP in use (198.19.0.10 + index, up to .254). */
function nextVip(ctx: ApplyContext): number {
  const all = [...ctx.spec.services, ...ctx.applied.flatMap((a) => a.services)];
  const next = Math.max(ctx.spec.services.length, ...all.map((s) => (s.vipIndex ?? -1) + 1));
  if (next > 244) throw new ApplyError("no service address left (245 services)");
  return next;
}

function podFrom(key: string, name: string, namespace: string, t: PodTemplateLike, ctx: ApplyContext, places: Places): ClusterPod {
  const containers = t.spec?.containers ?? [];
  if (containers.length !== 1)
    throw new ApplyError(`${key}: ambientctl local runs pods of exactly one container (the sidecar is added by injection), got ${containers.length}`);
  const c = containers[0]!;
  const argv = [...(c.command ?? []), ...(c.args ?? [])];
  if (!c.command?.length)
    throw new ApplyError(
      `${key}: container ${c.name ?? "0"} has no command; with no image runtime here, its command runs as a program on this machine: give it one, e.g. command: [python3, -m, http.server, "8080"]`,
    );
  if (t.spec?.hostNetwork) throw new ApplyError(`${key}: hostNetwork pods would run in the machine's own network namespace; not here`);
  const nsLabels = ctx.namespaceLabels(namespace);
  const view = { metadata: { namespace, labels: t.metadata?.labels ?? {}, annotations: t.metadata?.annotations ?? {} }, spec: t.spec ?? {} };
  const sidecar = injectionDecision(view as never, nsLabels, MESH_NAMESPACE).inject;
  const mode = t.metadata?.labels?.[LABELS.dataplaneMode] ?? nsLabels[LABELS.dataplaneMode];
  return {
    namespace,
    name,
    serviceAccount: t.spec?.serviceAccountName || "default",
    // An injected pod is in the mesh through its sidecar, never captured by its node.
    ambient: !sidecar && mode === "ambient",
    ...(sidecar ? { sidecar: true } : {}),
    app: { cmd: argv[0]!, args: argv.slice(1) },
    ...places.take(t.spec?.nodeName, key),
  };
}

/** Nodes, slots and user indexes for new pods, past everything the cluster and earlier applies hold. */
class Places {
  private readonly ctx: ApplyContext;
  private readonly perNode = new Map<string, number>();
  private readonly nextSlotOn = new Map<string, number>();
  private nextUser: number;

  constructor(ctx: ApplyContext) {
    this.ctx = ctx;
    const pods = [...ctx.spec.pods, ...ctx.applied.flatMap((a) => a.pods)];
    for (const n of ctx.plan.nodes) this.perNode.set(n.name, 0);
    for (const p of pods) this.perNode.set(p.node, (this.perNode.get(p.node) ?? 0) + 1);
    for (const n of ctx.plan.nodes) {
      const slots = pods.filter((p) => p.node === n.name && p.slot !== undefined).map((p) => p.slot!);
      this.nextSlotOn.set(n.name, Math.max(nextSlot(ctx.plan, n.name), ...slots.map((s) => s + 1)));
    }
    this.nextUser = Math.max(ctx.spec.pods.length, ...pods.map((p) => (p.userIndex ?? -1) + 1));
  }

  take(nodeName: string | undefined, key: string): { node: string; slot: number; userIndex: number } {
    const nodes = this.ctx.plan.nodes.map((n) => n.name);
    if (nodeName !== undefined && !nodes.includes(nodeName))
      throw new ApplyError(`${key}: spec.nodeName ${nodeName} is not a node; nodes: ${nodes.join(", ")}`);
    // As a scheduler spreading pods: the node with the fewest, the first of those on a tie.
    const node = nodeName ?? nodes.reduce((a, b) => (this.perNode.get(b)! < this.perNode.get(a)! ? b : a));
    const slot = this.nextSlotOn.get(node)!;
    if (slot > 239) throw new ApplyError(`${key}: node ${node} has no address left (240 pods per node)`);
    this.nextSlotOn.set(node, slot + 1);
    this.perNode.set(node, this.perNode.get(node)! + 1);
    return { node, slot, userIndex: this.nextUser++ };
  }
}

/** The cluster with applied workloads: the pods created with it, then every applied workload's. */
export function withApplied(spec: ClusterSpec, applied: readonly AppliedWorkload[]): ClusterSpec {
  const base = baseSpec(spec);
  return {
    ...base,
    pods: [...base.pods, ...applied.flatMap((a) => a.pods.map((p) => ({ ...p, applied: a.key })))],
    services: [...base.services, ...applied.flatMap((a) => a.services.map((s) => ({ ...s, applied: a.key })))],
    gateways: [...(base.gateways ?? []), ...applied.flatMap((a) => a.gateways.map((g) => ({ ...g, applied: a.key })))],
  };
}

/** The spec a cluster was created with: everything applied later taken away. */
export function baseSpec(spec: ClusterSpec): ClusterSpec {
  return {
    ...spec,
    pods: spec.pods.filter((p) => p.applied === undefined),
    services: spec.services.filter((s) => s.applied === undefined),
    gateways: (spec.gateways ?? []).filter((g) => g.applied === undefined),
  };
}
