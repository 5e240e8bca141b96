// The mesh's resource model, shared by the control plane (which produces it) and the proxies (which
// act on it). These shapes mirror Istio's WDS resources (Workload, Service, Authorization); mesh/api/convert.ts
// maps them to and from the protobuf wire messages.

export type TunnelProtocol = "HBONE" | "NONE";
export type HealthStatus = "Healthy" | "Unhealthy";

/** service port -> target port. A target port of 0 means "same as the service port". */
export type PortMap = ReadonlyMap<number, number>;

/** The waypoint a workload or service is bound to (`istio.io/use-waypoint`): its Service, by hostname. */
export interface WaypointRef {
  hostname: string;
  namespace: string;
  hbonePort: number;
}

export interface Workload {
  uid: string;
  name: string;
  namespace: string;
  ips: readonly string[];
  trustDomain: string;
  serviceAccount: string;
  node: string;
  protocol: TunnelProtocol;
  status: HealthStatus;
  /** "ns/hostname" -> ports this workload serves for that service. */
  services: ReadonlyMap<string, PortMap>;
  /** Selector-scoped policies ("ns/name") that select this workload. */
  authorizationPolicies: readonly string[];
  /** Telemetry labels. */
  canonicalName: string;
  canonicalRevision: string;
  workloadName: string;
  waypoint?: WaypointRef;
  /** The pod terminates HBONE itself (a waypoint): ztunnel neither captures nor proxies its traffic. */
  nativeHbone?: true;
}

/** What a service port declares it speaks (Istio's explicit protocol selection: appProtocol, else the port name's prefix). */
export type AppProtocol = "http" | "http2" | "grpc";

export interface Service {
  name: string;
  namespace: string;
  hostname: string;
  vips: readonly string[];
  ports: PortMap;
  /** Service port -> declared protocol, for the ports that declare one. */
  appProtocols?: ReadonlyMap<number, AppProtocol>;
  waypoint?: WaypointRef;
}

export type StringMatch = { kind: "exact"; value: string } | { kind: "prefix"; value: string } | { kind: "suffix"; value: string } | { kind: "presence" };

/** Values within one field are OR-ed, fields are AND-ed; a `not*` field requires that none match. */
export interface Match {
  namespaces: readonly StringMatch[];
  notNamespaces: readonly StringMatch[];
  principals: readonly StringMatch[];
  notPrincipals: readonly StringMatch[];
  sourceIps: readonly string[];
  notSourceIps: readonly string[];
  destinationIps: readonly string[];
  notDestinationIps: readonly string[];
  destinationPorts: readonly number[];
  notDestinationPorts: readonly number[];
}

/** Matches are OR-ed. */
export interface Clause {
  matches: readonly Match[];
}

/** Clauses are AND-ed. */
export interface Rule {
  clauses: readonly Clause[];
}

export type PolicyScope = "Global" | "Namespace" | "WorkloadSelector";
export type PolicyAction = "Allow" | "Deny";

export interface Authorization {
  name: string;
  namespace: string;
  scope: PolicyScope;
  action: PolicyAction;
  /** Rules are OR-ed; a policy with no rules matches nothing. */
  rules: readonly Rule[];
  dryRun: boolean;
}

export function workloadKey(w: Pick<Workload, "uid">): string {
  return w.uid;
}

export function serviceKey(s: Pick<Service, "namespace" | "hostname">): string {
  return `${s.namespace}/${s.hostname}`;
}

export function policyKey(p: Pick<Authorization, "namespace" | "name">): string {
  return `${p.namespace}/${p.name}`;
}
export type * from "./l7-types.ts";
