// Pure: the single-machine cluster as Kubernetes objects (Namespaces, Nodes, Pods with their IPs,
// Services with their VIPs), which the control plane reads in file mode exactly as it would read them
// from an API server.
import { stringify } from "yaml";
import type { PlannedService, PodMeta } from "./config-render.ts";
import type { TopologyPlan } from "./plan.ts";
import { LABELS } from "../api/index.ts";

export interface GatewaySpec {
  namespace: string;
  name: string;
  /** istio.io/waypoint-for: service (default), workload, all. */
  waypointFor?: "service" | "workload" | "all";
  /** Added by `ambientctl local apply` (the applied object's key). */
  applied?: string;
}

/** Pods that run their own proxy (waypoints, sidecars) are never captured and do not decide enrolment. */
const ownProxy = (p: PodMeta) => p.gateway !== undefined || p.sidecar === true;

/** A namespace's labels as the control plane sees them: enrolled if all its pods are ambient, then `apply`'s. */
export function effectiveNamespaceLabels(pods: PodMeta[], namespaceLabels: Record<string, Record<string, string>>, ns: string): Record<string, string> {
  const members = pods.filter((p) => p.namespace === ns && !ownProxy(p));
  // A namespace whose pods are all in the mesh is enrolled by its label, as users do it.
  const enrolled = members.length > 0 && members.every((p) => p.ambient);
  // Labels set with `ambientctl local apply` win over the default enrolment label.
  return { ...(enrolled ? { [LABELS.dataplaneMode]: "ambient" } : {}), ...namespaceLabels[ns] };
}

export function renderClusterManifests(
  plan: TopologyPlan,
  pods: PodMeta[],
  services: PlannedService[],
  namespaceLabels: Record<string, Record<string, string>> = {},
  gateways: GatewaySpec[] = [],
  /** Labels applied to Services with `ambientctl local apply`, by "namespace/name": they replace the Service's own. */
  serviceLabels: Record<string, Record<string, string>> = {},
): string {
  const meta = new Map(pods.map((p) => [`${p.namespace}/${p.name}`, p]));
  const namespaces = [...new Set(plan.pods.map((p) => p.namespace))].sort();
  const docs: unknown[] = [];
  for (const ns of namespaces) {
    const labels = effectiveNamespaceLabels(pods, namespaceLabels, ns);
    docs.push({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns, ...(Object.keys(labels).length ? { labels } : {}) } });
  }
  for (const n of plan.nodes) {
    docs.push({ apiVersion: "v1", kind: "Node", metadata: { name: n.name }, status: { addresses: [{ type: "InternalIP", address: n.ip }] } });
  }
  for (const p of plan.pods) {
    const m = meta.get(`${p.namespace}/${p.name}`);
    const nsEnrolled = pods.filter((x) => x.namespace === p.namespace && !ownProxy(x)).every((x) => x.ambient);
    const labels: Record<string, string> = { app: p.name };
    if (m?.ambient && !nsEnrolled) labels[LABELS.dataplaneMode] = "ambient";
    // As Istio labels the pods of a waypoint Deployment.
    if (m?.gateway) Object.assign(labels, { [LABELS.gatewayName]: m.gateway, [LABELS.dataplaneMode]: "none" });
    // As our injector labels the pods it adds the sidecar proxy to.
    if (m?.sidecar) Object.assign(labels, { [LABELS.proxy]: "sidecar", [LABELS.dataplaneMode]: "none" });
    docs.push({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: p.name, namespace: p.namespace, labels },
      spec: { nodeName: p.node, serviceAccountName: m?.serviceAccount ?? "default", containers: [{ name: p.name, image: "local" }] },
      status: { phase: "Running", podIP: p.ip, podIPs: [{ ip: p.ip }], conditions: [{ type: "Ready", status: "True" }] },
    });
  }
  for (const s of services) {
    const labels = serviceLabels[`${s.namespace}/${s.name}`] ?? s.labels;
    docs.push({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: s.name, namespace: s.namespace, ...(labels && Object.keys(labels).length ? { labels } : {}) },
      spec: {
        clusterIP: s.vip,
        clusterIPs: [s.vip],
        // Each local pod carries app=<its name>; a service selects its listed pods.
        ...(s.selector.length === 1 ? { selector: { app: s.selector[0] } } : {}),
        ports: s.ports.map((x) => ({ name: x.name ?? `tcp-${x.port}`, port: x.port, targetPort: x.targetPort, protocol: "TCP" })),
      },
    });
    if (s.selector.length !== 1) {
      // Several (or no) pods: list them in an EndpointSlice, as the endpoint controller would.
      docs.push({
        apiVersion: "discovery.k8s.io/v1",
        kind: "EndpointSlice",
        metadata: { name: `${s.name}-local`, namespace: s.namespace, labels: { "kubernetes.io/service-name": s.name } },
        addressType: "IPv4",
        endpoints: plan.pods
          .filter((p) => p.namespace === s.namespace && s.selector.includes(p.name))
          .map((p) => ({ addresses: [p.ip], targetRef: { kind: "Pod", name: p.name, namespace: p.namespace } })),
        ports: s.ports.map((x) => ({ name: x.name ?? `tcp-${x.port}`, port: x.targetPort, protocol: "TCP" })),
      });
    }
  }
  for (const g of gateways) {
    docs.push({
      apiVersion: "gateway.networking.k8s.io/v1",
      kind: "Gateway",
      metadata: { name: g.name, namespace: g.namespace, labels: { [LABELS.waypointFor]: g.waypointFor ?? "service" } },
      spec: { gatewayClassName: "istio-waypoint", listeners: [{ name: "mesh", port: 15008, protocol: "HBONE" }] },
    });
  }
  return docs.map((d) => stringify(d, { lineWidth: 0 })).join("---\n");
}
