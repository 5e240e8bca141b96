// Internal resource model <-> protobuf wire messages. The control plane encodes; proxies decode and
// validate at the edge, so one bad resource is reported (NACKed) on its own and the rest apply.
import net from "node:net";
import { create } from "@bufbuild/protobuf";
import { parseCidr, DEFAULT_TRUST_DOMAIN } from "../shared/index.ts";
import { ErrorCode, MeshError } from "../shared/index.ts";
import {
  Action,
  AuthorizationSchema,
  MatchSchema,
  Scope,
  StringMatchSchema,
  type Authorization as PbAuthorization,
  type Match as PbMatch,
  type StringMatch as PbStringMatch,
} from "./gen/ambientlab/v1/authorization_pb.js";
import {
  AddressSchema,
  AppProtocol as PbAppProtocol,
  TunnelProtocol,
  WorkloadStatus,
  type Address as PbAddress,
  type GatewayAddress,
  type Port,
  type Service as PbService,
  type Workload as PbWorkload,
} from "./gen/ambientlab/v1/workload_pb.js";
import type { AppProtocol, Authorization, Match, PortMap, Service, StringMatch, WaypointRef, Workload } from "./types.ts";

export const TYPE_ADDRESS = "type.googleapis.com/ambientlab.v1.Address";
export const TYPE_AUTHORIZATION = "type.googleapis.com/ambientlab.v1.Authorization";

const ports = (m: PortMap, protocols?: ReadonlyMap<number, AppProtocol>): Array<{ servicePort: number; targetPort: number; appProtocol?: PbAppProtocol }> =>
  [...m.entries()].map(([servicePort, targetPort]) => {
    const p = protocols?.get(servicePort);
    return p ? { servicePort, targetPort, appProtocol: APP_PROTOCOL_OUT[p] } : { servicePort, targetPort };
  });

const APP_PROTOCOL_OUT: Record<AppProtocol, PbAppProtocol> = { http: PbAppProtocol.HTTP11, http2: PbAppProtocol.HTTP2, grpc: PbAppProtocol.GRPC };
const APP_PROTOCOL_IN: Partial<Record<number, AppProtocol>> = { [PbAppProtocol.HTTP11]: "http", [PbAppProtocol.HTTP2]: "http2", [PbAppProtocol.GRPC]: "grpc" };

function waypointOut(w: WaypointRef | undefined) {
  return w ? { hostname: w.hostname, namespace: w.namespace, hbonePort: w.hbonePort } : undefined;
}

export function workloadToProto(w: Workload): PbAddress {
  return create(AddressSchema, {
    type: {
      case: "workload",
      value: {
        uid: w.uid,
        name: w.name,
        namespace: w.namespace,
        addresses: [...w.ips],
        trustDomain: w.trustDomain,
        serviceAccount: w.serviceAccount,
        node: w.node,
        tunnelProtocol: w.protocol === "HBONE" ? TunnelProtocol.HBONE : TunnelProtocol.NONE,
        status: w.status === "Healthy" ? WorkloadStatus.HEALTHY : WorkloadStatus.UNHEALTHY,
        services: Object.fromEntries([...w.services.entries()].map(([k, m]) => [k, { ports: ports(m) }])),
        authorizationPolicies: [...w.authorizationPolicies],
        canonicalName: w.canonicalName,
        canonicalRevision: w.canonicalRevision,
        workloadName: w.workloadName,
        ...(w.waypoint ? { waypoint: waypointOut(w.waypoint) } : {}),
        nativeHbone: w.nativeHbone === true,
      },
    },
  });
}

export function serviceToProto(s: Service): PbAddress {
  return create(AddressSchema, {
    type: {
      case: "service",
      value: {
        name: s.name,
        namespace: s.namespace,
        hostname: s.hostname,
        vips: [...s.vips],
        ports: ports(s.ports, s.appProtocols),
        ...(s.waypoint ? { waypoint: waypointOut(s.waypoint) } : {}),
      },
    },
  });
}

export function stringMatchToProto(m: StringMatch): PbStringMatch {
  switch (m.kind) {
    case "presence":
      return create(StringMatchSchema, { matchType: { case: "presence", value: true } });
    default:
      return create(StringMatchSchema, { matchType: { case: m.kind, value: m.value } });
  }
}

function matchToProto(m: Match): PbMatch {
  return create(MatchSchema, {
    namespaces: m.namespaces.map(stringMatchToProto),
    notNamespaces: m.notNamespaces.map(stringMatchToProto),
    principals: m.principals.map(stringMatchToProto),
    notPrincipals: m.notPrincipals.map(stringMatchToProto),
    sourceIps: [...m.sourceIps],
    notSourceIps: [...m.notSourceIps],
    destinationIps: [...m.destinationIps],
    notDestinationIps: [...m.notDestinationIps],
    destinationPorts: [...m.destinationPorts],
    notDestinationPorts: [...m.notDestinationPorts],
  });
}

const SCOPES = { Global: Scope.GLOBAL, Namespace: Scope.NAMESPACE, WorkloadSelector: Scope.WORKLOAD_SELECTOR } as const;

export function authorizationToProto(p: Authorization): PbAuthorization {
  return create(AuthorizationSchema, {
    name: p.name,
    namespace: p.namespace,
    scope: SCOPES[p.scope],
    action: p.action === "Allow" ? Action.ALLOW : Action.DENY,
    dryRun: p.dryRun,
    rules: p.rules.map((r) => ({ clauses: r.clauses.map((c) => ({ matches: c.matches.map(matchToProto) })) })),
  });
}

// ---- decoding (proxy side): validate, convert, reject per resource ----

/**
 * The fields of the wire messages decoding reads: the generated messages' own fields (so they follow the
 * .proto), without the library's bookkeeping; what fromBinary makes, and what wire-read.ts reads directly.
 */
type Fields<T> = Omit<T, "$typeName" | "$unknown">;
export type PortFields = Fields<Port>;
export type GatewayFields = Fields<GatewayAddress>;
export type WorkloadFields = Omit<Fields<PbWorkload>, "services" | "waypoint"> & {
  services: Record<string, { ports: PortFields[] }>;
  waypoint?: GatewayFields | undefined;
};
export type ServiceFields = Omit<Fields<PbService>, "ports" | "waypoint"> & { ports: PortFields[]; waypoint?: GatewayFields | undefined };
export type StringMatchFields = Fields<PbStringMatch>;
export type MatchFields = Omit<Fields<PbMatch>, "namespaces" | "notNamespaces" | "principals" | "notPrincipals"> & {
  namespaces: StringMatchFields[];
  notNamespaces: StringMatchFields[];
  principals: StringMatchFields[];
  notPrincipals: StringMatchFields[];
};
/** An Authorization's fields, as fromBinary reads them and as wire-authorization.ts reads them directly. */
export type AuthorizationFields = Omit<Fields<PbAuthorization>, "rules"> & { rules: Array<{ clauses: Array<{ matches: MatchFields[] }> }> };
export interface AddressFields {
  type: { case: "workload"; value: WorkloadFields } | { case: "service"; value: ServiceFields } | { case: undefined; value?: undefined };
}

export function bad(what: string): never {
  throw new MeshError(ErrorCode.InvalidResource, what);
}

function ipList(list: readonly string[], field: string): string[] {
  for (const ip of list) if (net.isIP(ip) === 0) bad(`${field}: "${ip}" is not an IP address`);
  return [...list];
}

function cidrList(list: readonly string[], field: string): string[] {
  for (const c of list) {
    try {
      parseCidr(c);
    } catch {
      bad(`${field}: "${c}" is not an IP address or CIDR block`);
    }
  }
  return [...list];
}

function portMapFrom(list: readonly PortFields[], field: string): PortMap {
  const out = new Map<number, number>();
  let ascending = true;
  let last = 0;
  for (const p of list) {
    if (p.servicePort < 1 || p.servicePort > 65535) bad(`${field}: service port ${p.servicePort} is outside 1..65535`);
    if (p.targetPort > 65535) bad(`${field}: target port ${p.targetPort} is outside 0..65535`);
    out.set(p.servicePort, p.targetPort);
    ascending &&= p.servicePort > last;
    last = p.servicePort;
  }
  // The control plane sends ports in order: re-sorting is for other senders (and was a tenth of a first sync).
  return ascending ? out : new Map([...out.entries()].sort((a, b) => a[0] - b[0]));
}

/** The ports that declare a protocol; undefined when none does. A value this build does not know is refused. */
function appProtocolsFrom(list: readonly PortFields[]): ReadonlyMap<number, AppProtocol> | undefined {
  let out: Map<number, AppProtocol> | undefined;
  for (const p of list) {
    if (!p.appProtocol) continue;
    const name = APP_PROTOCOL_IN[p.appProtocol];
    if (!name) bad(`ports: port ${p.servicePort} declares an unknown application protocol (${p.appProtocol})`);
    (out ??= new Map()).set(p.servicePort, name);
  }
  return out;
}

function waypointFrom(g: GatewayFields | undefined): WaypointRef | undefined {
  return g && g.hostname ? { hostname: g.hostname, namespace: g.namespace, hbonePort: g.hbonePort || 15008 } : undefined;
}

export function addressFromProto(a: AddressFields): { workload: Workload } | { service: Service } {
  if (a.type.case === "workload") {
    const w = a.type.value;
    if (!w.uid || !w.name || !w.namespace || !w.node) bad("workload needs uid, name, namespace and node");
    if (w.addresses.length === 0) bad(`workload ${w.namespace}/${w.name} has no address`);
    const wp = waypointFrom(w.waypoint);
    return {
      workload: {
        uid: w.uid,
        name: w.name,
        namespace: w.namespace,
        ips: ipList(w.addresses, "addresses"),
        trustDomain: w.trustDomain || DEFAULT_TRUST_DOMAIN,
        serviceAccount: w.serviceAccount || "default",
        node: w.node,
        protocol: w.tunnelProtocol === TunnelProtocol.HBONE ? "HBONE" : "NONE",
        status: w.status === WorkloadStatus.UNHEALTHY ? "Unhealthy" : "Healthy",
        services: new Map(Object.entries(w.services).map(([k, v]) => [k, portMapFrom(v.ports, `services[${k}]`)])),
        authorizationPolicies: [...w.authorizationPolicies],
        canonicalName: w.canonicalName || w.name,
        canonicalRevision: w.canonicalRevision || "latest",
        workloadName: w.workloadName || w.name,
        ...(wp ? { waypoint: wp } : {}),
        ...(w.nativeHbone ? { nativeHbone: true as const } : {}),
      },
    };
  }
  if (a.type.case === "service") {
    const s = a.type.value;
    if (!s.name || !s.namespace || !s.hostname) bad("service needs name, namespace and hostname");
    const wp = waypointFrom(s.waypoint);
    const protocols = appProtocolsFrom(s.ports);
    return {
      service: {
        name: s.name,
        namespace: s.namespace,
        hostname: s.hostname,
        vips: ipList(s.vips, "vips"),
        ports: portMapFrom(s.ports, "ports"),
        ...(protocols ? { appProtocols: protocols } : {}),
        ...(wp ? { waypoint: wp } : {}),
      },
    };
  }
  return bad("address is neither a workload nor a service");
}

export function stringMatchFrom(m: StringMatchFields): StringMatch {
  switch (m.matchType.case) {
    case "exact":
    case "prefix":
    case "suffix":
      return { kind: m.matchType.case, value: m.matchType.value };
    case "presence":
      return { kind: "presence" };
    default:
      return bad("a string match has no match type");
  }
}

export function portsFrom(list: readonly number[], field: string): number[] {
  for (const p of list) if (p < 1 || p > 65535) bad(`${field}: port ${p} is outside 1..65535`);
  return [...list];
}

function matchFrom(m: MatchFields): Match {
  return {
    namespaces: m.namespaces.map(stringMatchFrom),
    notNamespaces: m.notNamespaces.map(stringMatchFrom),
    principals: m.principals.map(stringMatchFrom),
    notPrincipals: m.notPrincipals.map(stringMatchFrom),
    sourceIps: cidrList(m.sourceIps, "sourceIps"),
    notSourceIps: cidrList(m.notSourceIps, "notSourceIps"),
    destinationIps: cidrList(m.destinationIps, "destinationIps"),
    notDestinationIps: cidrList(m.notDestinationIps, "notDestinationIps"),
    destinationPorts: portsFrom(m.destinationPorts, "destinationPorts"),
    notDestinationPorts: portsFrom(m.notDestinationPorts, "notDestinationPorts"),
  };
}

export function authorizationFromProto(p: AuthorizationFields): Authorization {
  if (!p.name || !p.namespace) bad("authorization needs a name and a namespace");
  const scope =
    p.scope === Scope.GLOBAL
      ? "Global"
      : p.scope === Scope.NAMESPACE
        ? "Namespace"
        : p.scope === Scope.WORKLOAD_SELECTOR
          ? "WorkloadSelector"
          : bad(`unknown scope ${p.scope}`);
  const action = p.action === Action.ALLOW ? "Allow" : p.action === Action.DENY ? "Deny" : bad(`unknown action ${p.action}`);
  return {
    name: p.name,
    namespace: p.namespace,
    scope,
    action,
    dryRun: p.dryRun,
    rules: p.rules.map((r) => ({ clauses: r.clauses.map((c) => ({ matches: c.matches.map(matchFrom) })) })),
  };
}
