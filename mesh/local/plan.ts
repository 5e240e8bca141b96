// The network-namespace topology of a single-machine cluster, planned by pure functions:
// nodes and pods are network namespaces, joined by veth pairs, addressed only from 198.18.0.0/15.
//
//   <prefix>-net        one bridge (br0, 198.18.0.2): the "physical" network between nodes; the
//                       control plane listens here
//   <prefix>-<node>     a node: uplink 198.18.0.(10+i)/24 to the bridge, IP forwarding, ztunnel runs here
//   <prefix>-<ns>-<pod> a pod: eth0 198.18.<i>.(10+k)/32, routes only to 198.18.0.0/15 via its node
//
// No namespace has a default route or any link to the host's namespace: nothing can leave the machine.
import { ErrorCode, MeshError } from "../shared/index.ts";

export interface NodeSpec {
  name: string;
}

export interface PodSpec {
  namespace: string;
  name: string;
  node: string;
  /**
   * The pod's place on its node (its address is 198.18.<node>.(10+slot), its veth vp<slot>). Pods
   * created with the cluster leave it out and get their order on the node; pods added later get one
   * past every slot in use, so adding or removing a pod never moves another.
   */
  slot?: number;
}

export interface TopologySpec {
  /** Prefix of every namespace name; must start with "al-". */
  prefix: string;
  nodes: NodeSpec[];
  pods: PodSpec[];
}

export interface PlannedNode {
  name: string;
  netns: string;
  ip: string;
  uplink: string;
  podCidr: string;
  gateway: string;
}

export interface PlannedPod extends PodSpec {
  netns: string;
  ip: string;
  /** The node-side end of the pod's veth. */
  hostIf: string;
}

export interface TopologyPlan {
  prefix: string;
  bridgeNetns: string;
  /** The bridge namespace's own address: where cluster-wide services (the control plane) listen. */
  bridgeIp: string;
  nodes: PlannedNode[];
  pods: PlannedPod[];
  /** `ip -n <netns> -batch -` scripts, in order. */
  batches: Array<{ netns: string; script: string }>;
  /** Namespaces to create, in order (and to delete, in reverse). */
  namespaces: string[];
  /** sysctls to set: [netns, key, value]. */
  sysctls: Array<[string, string, string]>;
}

const NAME_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function planTopology(spec: TopologySpec): TopologyPlan {
  const problems: string[] = [];
  if (!/^al-[a-z0-9-]+$/.test(spec.prefix)) problems.push(`prefix "${spec.prefix}" must start with "al-" and use a-z, 0-9, -`);
  if (spec.nodes.length < 1 || spec.nodes.length > 200) problems.push(`need 1..200 nodes, got ${spec.nodes.length}`);
  const nodeIndex = new Map<string, number>();
  spec.nodes.forEach((n, i) => {
    if (!NAME_RE.test(n.name)) problems.push(`node name "${n.name}" is not a DNS label`);
    if (nodeIndex.has(n.name)) problems.push(`node "${n.name}" appears twice`);
    nodeIndex.set(n.name, i + 1);
  });
  const perNode = new Map<string, number>();
  const seen = new Set<string>();
  for (const p of spec.pods) {
    if (!NAME_RE.test(p.name) || !NAME_RE.test(p.namespace)) problems.push(`pod "${p.namespace}/${p.name}" needs DNS-label names`);
    if (!nodeIndex.has(p.node)) problems.push(`pod "${p.namespace}/${p.name}" is on unknown node "${p.node}"`);
    if (seen.has(`${p.namespace}/${p.name}`)) problems.push(`pod "${p.namespace}/${p.name}" appears twice`);
    seen.add(`${p.namespace}/${p.name}`);
    perNode.set(p.node, (perNode.get(p.node) ?? 0) + 1);
  }
  for (const [node, n] of perNode) if (n > 240) problems.push(`node "${node}" has ${n} pods; at most 240 fit its /24`);
  if (problems.length) throw new MeshError(ErrorCode.Config, `invalid topology:\n  ${problems.join("\n  ")}`);

  const bridgeNetns = `${spec.prefix}-net`;
  const nodes: PlannedNode[] = spec.nodes.map((n, i) => ({
    name: n.name,
    netns: `${spec.prefix}-${n.name}`,
    ip: `198.18.0.${10 + i + 1}`,
    uplink: "uplink",
    podCidr: `198.18.${i + 1}.0/24`,
    gateway: `198.18.${i + 1}.1`,
  }));
  const counters = new Map<string, number>();
  const slots = new Set<string>();
  const pods: PlannedPod[] = spec.pods.map((p) => {
    const k = p.slot ?? counters.get(p.node) ?? 0;
    if (p.slot === undefined) counters.set(p.node, k + 1);
    if (slots.has(`${p.node}/${k}`)) problems.push(`pod "${p.namespace}/${p.name}" takes slot ${k} on ${p.node}, which another pod has`);
    if (k > 239) problems.push(`pod "${p.namespace}/${p.name}": slot ${k} is past the 240 a node's /24 holds`);
    slots.add(`${p.node}/${k}`);
    const i = nodeIndex.get(p.node)!;
    return { ...p, netns: `${spec.prefix}-${p.namespace}-${p.name}`, ip: `198.18.${i}.${10 + k}`, hostIf: `vp${k}` };
  });
  if (problems.length) throw new MeshError(ErrorCode.Config, `invalid topology:\n  ${problems.join("\n  ")}`);

  const batches: TopologyPlan["batches"] = [];
  batches.push({
    netns: bridgeNetns,
    script: ["link set lo up", "link add br0 type bridge", "addr add 198.18.0.2/24 dev br0", "link set br0 up"].join("\n") + "\n",
  });
  for (const [i, n] of nodes.entries()) {
    const lines = [
      "link set lo up",
      `link add ${n.uplink} type veth peer name vn${i + 1} netns ${bridgeNetns}`,
      `addr add ${n.ip}/24 dev ${n.uplink}`,
      `link set ${n.uplink} up`,
    ];
    for (const [j, other] of nodes.entries()) {
      if (j !== i) lines.push(`route add ${other.podCidr} via ${other.ip} dev ${n.uplink}`);
    }
    for (const p of pods.filter((x) => x.node === n.name)) lines.push(...nodeSideLines(n, p));
    batches.push({ netns: n.netns, script: lines.join("\n") + "\n" });
  }
  batches.push({
    netns: bridgeNetns,
    // Pod networks behind each node: the control plane and Prometheus answer pods (waypoints) too.
    script: [...nodes.map((_, i) => `link set vn${i + 1} master br0 up`), ...nodes.map((n) => `route add ${n.podCidr} via ${n.ip} dev br0`)].join("\n") + "\n",
  });
  for (const p of pods) batches.push({ netns: p.netns, script: podScript(nodes.find((n) => n.name === p.node)!, p) });
  return {
    prefix: spec.prefix,
    bridgeNetns,
    bridgeIp: "198.18.0.2",
    nodes,
    pods,
    batches,
    namespaces: [bridgeNetns, ...nodes.map((n) => n.netns), ...pods.map((p) => p.netns)],
    sysctls: nodes.flatMap((n): Array<[string, string, string]> => [[n.netns, "net.ipv4.ip_forward", "1"]]),
  };
}

/** The node's end of a pod's veth: the link (its peer created in the pod's namespace) and the route to the pod. */
function nodeSideLines(n: PlannedNode, p: PlannedPod): string[] {
  return [
    `link add ${p.hostIf} type veth peer name eth0 netns ${p.netns}`,
    `addr add ${n.gateway}/32 dev ${p.hostIf}`,
    `link set ${p.hostIf} up`,
    `route add ${p.ip}/32 dev ${p.hostIf} src ${n.gateway}`,
  ];
}

/** The pod's own side: its address and routes (only 198.18.0.0/15, via its node). */
function podScript(n: PlannedNode, p: PlannedPod): string {
  return (
    [
      "link set lo up",
      `addr add ${p.ip}/32 dev eth0`,
      "link set eth0 up",
      `route add ${n.gateway}/32 dev eth0`,
      `route add 198.18.0.0/15 via ${n.gateway} dev eth0 src ${p.ip}`,
    ].join("\n") + "\n"
  );
}

/** The `ip -batch` scripts that add one pod to a running cluster: its node's side first, then its own. */
export function addPodBatches(plan: TopologyPlan, pod: PlannedPod): TopologyPlan["batches"] {
  const n = plan.nodes.find((x) => x.name === pod.node);
  if (!n) throw new MeshError(ErrorCode.Config, `pod ${pod.namespace}/${pod.name} is on unknown node ${pod.node}`);
  return [
    { netns: n.netns, script: nodeSideLines(n, pod).join("\n") + "\n" },
    { netns: pod.netns, script: podScript(n, pod) },
  ];
}

/** The slot a pod added to `node` gets: one past every slot in use there. */
export function nextSlot(plan: TopologyPlan, node: string): number {
  const used = plan.pods.filter((p) => p.node === node).map((p) => Number(p.hostIf.slice(2)));
  return used.length ? Math.max(...used) + 1 : 0;
}
