// The Kubernetes object model both discovery sources produce (API server or YAML files). Core kinds
// use @kubernetes/client-node's types; Istio and Gateway API kinds are typed here for the fields we read.
import type { V1EndpointSlice, V1Namespace, V1Node, V1ObjectMeta, V1Pod, V1Service } from "@kubernetes/client-node";

export type { V1EndpointSlice, V1Namespace, V1Node, V1ObjectMeta, V1Pod, V1Service };

export interface StringMatchSpec {
  exact?: string;
  prefix?: string;
}

export interface AuthorizationPolicySource {
  principals?: string[];
  notPrincipals?: string[];
  requestPrincipals?: string[];
  notRequestPrincipals?: string[];
  namespaces?: string[];
  notNamespaces?: string[];
  ipBlocks?: string[];
  notIpBlocks?: string[];
  remoteIpBlocks?: string[];
  notRemoteIpBlocks?: string[];
}

export interface AuthorizationPolicyOperation {
  hosts?: string[];
  notHosts?: string[];
  ports?: string[];
  notPorts?: string[];
  methods?: string[];
  notMethods?: string[];
  paths?: string[];
  notPaths?: string[];
}

export interface AuthorizationPolicyCondition {
  key: string;
  values?: string[];
  notValues?: string[];
}

export interface AuthorizationPolicyRule {
  from?: Array<{ source?: AuthorizationPolicySource }>;
  to?: Array<{ operation?: AuthorizationPolicyOperation }>;
  when?: AuthorizationPolicyCondition[];
}

export interface PolicyTargetRef {
  group?: string;
  kind: string;
  name: string;
  namespace?: string;
}

export interface AuthorizationPolicy {
  apiVersion: string;
  kind: "AuthorizationPolicy";
  metadata: V1ObjectMeta;
  spec?: {
    selector?: { matchLabels?: Record<string, string> };
    targetRef?: PolicyTargetRef;
    targetRefs?: PolicyTargetRef[];
    action?: string;
    rules?: AuthorizationPolicyRule[];
  };
}

export interface PeerAuthentication {
  apiVersion: string;
  kind: "PeerAuthentication";
  metadata: V1ObjectMeta;
  spec?: {
    selector?: { matchLabels?: Record<string, string> };
    mtls?: { mode?: string };
    portLevelMtls?: Record<string, { mode?: string }>;
  };
}

export interface Gateway {
  apiVersion: string;
  kind: "Gateway";
  metadata: V1ObjectMeta;
  spec?: { gatewayClassName?: string; listeners?: Array<{ name?: string; port?: number; protocol?: string }> };
}

export interface HTTPRoute {
  apiVersion: string;
  kind: "HTTPRoute";
  metadata: V1ObjectMeta;
  spec?: Record<string, unknown>;
}

export interface GRPCRoute {
  apiVersion: string;
  kind: "GRPCRoute";
  metadata: V1ObjectMeta;
  spec?: Record<string, unknown>;
}

/** Every kind discovery watches, with its API group/version. */
export const KINDS = {
  Namespace: { apiVersion: "v1", plural: "namespaces", namespaced: false },
  Node: { apiVersion: "v1", plural: "nodes", namespaced: false },
  Pod: { apiVersion: "v1", plural: "pods", namespaced: true },
  Service: { apiVersion: "v1", plural: "services", namespaced: true },
  EndpointSlice: { apiVersion: "discovery.k8s.io/v1", plural: "endpointslices", namespaced: true },
  AuthorizationPolicy: { apiVersion: "security.istio.io/v1", plural: "authorizationpolicies", namespaced: true },
  PeerAuthentication: { apiVersion: "security.istio.io/v1", plural: "peerauthentications", namespaced: true },
  Gateway: { apiVersion: "gateway.networking.k8s.io/v1", plural: "gateways", namespaced: true },
  HTTPRoute: { apiVersion: "gateway.networking.k8s.io/v1", plural: "httproutes", namespaced: true },
  GRPCRoute: { apiVersion: "gateway.networking.k8s.io/v1", plural: "grpcroutes", namespaced: true },
} as const;

export type Kind = keyof typeof KINDS;

export interface KindTypes {
  Namespace: V1Namespace;
  Node: V1Node;
  Pod: V1Pod;
  Service: V1Service;
  EndpointSlice: V1EndpointSlice;
  AuthorizationPolicy: AuthorizationPolicy;
  PeerAuthentication: PeerAuthentication;
  Gateway: Gateway;
  HTTPRoute: HTTPRoute;
  GRPCRoute: GRPCRoute;
}

export type AnyObject = KindTypes[Kind];

/** The store key of an object: "namespace/name", or "name" for cluster-scoped kinds. */
export function objectKey(o: { metadata?: V1ObjectMeta }): string {
  const m = o.metadata ?? {};
  return m.namespace ? `${m.namespace}/${m.name}` : `${m.name}`;
}

/** A consistent view of every kind, as translation reads it. */
export type ClusterSnapshot = { [K in Kind]: ReadonlyArray<KindTypes[K]> };

export function emptySnapshot(): ClusterSnapshot {
  return {
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
}
