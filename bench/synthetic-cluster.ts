// A synthetic cluster of the benchmark's size, generated deterministically (no randomness): namespaces,
// nodes, pods, services selecting pods, and a mix of AuthorizationPolicies.
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
  for (let s = 0; s < size.services; s++) {
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
