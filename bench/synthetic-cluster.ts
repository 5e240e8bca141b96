// A synthetic cluster of the benchmark's size, generated deterministically (no randomness): namespaces,
// nodes, pods, services selecting pods with the EndpointSlices Kubernetes' EndpointSlice controller makes
// for them, and a mix of AuthorizationPolicies.
import type { AnyObject, Kind } from "../mesh/control-plane/index.ts";
import { LABELS } from "../mesh/api/index.ts";

export interface SyntheticSize {
  pods: number;
  services: number;
  policies: number;
  namespaces: number;
  nodes: number;
}

export function syntheticCluster(size: SyntheticSize): Record<Kind, AnyObject[]> {
  const out: Record<Kind, AnyObject[]> = {
    Namespace: [],
    Node: [],
    Pod: [],
    Service: [],
    EndpointSlice: [],
    AuthorizationPolicy: [],
    PeerAuthentication: [],
    Gateway: [],
    HTTPRoute: [],
    GRPCRoute: [],
  };
  const ns = (i: number) => `ns-${i % size.namespaces}`;
  for (let i = 0; i < size.namespaces; i++) {
    out.Namespace.push({
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: `ns-${i}`, labels: i % 5 === 4 ? {} : { [LABELS.dataplaneMode]: "ambient" } },
    } as AnyObject);
  }
  for (let i = 0; i < size.nodes; i++) out.Node.push({ apiVersion: "v1", kind: "Node", metadata: { name: `node-${i}` } } as AnyObject);
  for (let i = 0; i < size.pods; i++) {
    const svc = i % size.services;
    out.Pod.push({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: `pod-${i}`, namespace: ns(svc), labels: { app: `svc-${svc}`, version: `v${i % 3}` } },
      spec: {
        nodeName: `node-${i % size.nodes}`,
        serviceAccountName: `sa-${svc % 50}`,
        containers: [{ name: "c", image: "x", ports: [{ name: "http", containerPort: 8080 }] }],
      },
      status: { podIP: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, conditions: [{ type: "Ready", status: "True" }] },
    } as AnyObject);
  }
  // As the EndpointSlice controller writes them: one slice per service here (it holds up to 100 endpoints),
  // named <service>-<5 generated characters>, labelled with the service and the managing controller.
  const members = new Map<number, AnyObject[]>();
  for (const [i, pod] of out.Pod.entries()) {
    const svc = i % size.services;
    members.set(svc, [...(members.get(svc) ?? []), pod]);
  }
  for (let s = 0; s < size.services; s++) {
    const suffix = ((s * 2654435761) >>> 0).toString(36).slice(-5).padStart(5, "x");
    out.EndpointSlice.push({
      apiVersion: "discovery.k8s.io/v1",
      kind: "EndpointSlice",
      metadata: {
        name: `svc-${s}-${suffix}`,
        namespace: ns(s),
        labels: { "kubernetes.io/service-name": `svc-${s}`, "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io" },
        ownerReferences: [{ apiVersion: "v1", kind: "Service", name: `svc-${s}`, uid: `uid-svc-${s}`, controller: true, blockOwnerDeletion: true }],
      },
      addressType: "IPv4",
      endpoints: (members.get(s) ?? []).map((pod) => {
        const p = pod as unknown as { metadata: { name: string; namespace: string }; spec: { nodeName: string }; status: { podIP: string } };
        return {
          addresses: [p.status.podIP],
          conditions: { ready: true, serving: true, terminating: false },
          nodeName: p.spec.nodeName,
          targetRef: { kind: "Pod", namespace: p.metadata.namespace, name: p.metadata.name, uid: `uid-${p.metadata.name}` },
        };
      }),
      ports: [
        { name: "http", port: 8080, protocol: "TCP" },
        { name: "grpc", port: 9090, protocol: "TCP" },
      ],
    } as AnyObject);
    out.Service.push({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: `svc-${s}`, namespace: ns(s) },
      spec: {
        clusterIP: `172.20.${(s >> 8) & 255}.${s & 255}`,
        selector: { app: `svc-${s}` },
        ports: [
          { name: "http", port: 80, targetPort: "http" },
          { name: "grpc", port: 9090, targetPort: 9090 },
        ],
      },
    } as AnyObject);
  }
  for (let p = 0; p < size.policies; p++) {
    const selector = p % 2 === 0 ? { selector: { matchLabels: { app: `svc-${p % size.services}` } } } : {};
    out.AuthorizationPolicy.push({
      apiVersion: "security.istio.io/v1",
      kind: "AuthorizationPolicy",
      metadata: { name: `policy-${p}`, namespace: ns(p) },
      spec: {
        ...selector,
        action: p % 3 === 0 ? "DENY" : "ALLOW",
        rules: [
          {
            from: [{ source: { principals: [`cluster.local/ns/${ns(p + 1)}/sa/sa-${p % 50}`], namespaces: [ns(p + 2)] } }],
            to: [{ operation: { ports: ["8080", "9090"] } }],
          },
        ],
      },
    } as AnyObject);
  }
  return out;
}
