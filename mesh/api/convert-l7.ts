// Waypoint resources <-> protobuf (mesh/api/proto/ambientlab/v1/waypoint.proto). Decoding validates
// at the edge: one bad route or policy is rejected (NACKed) on its own.
import { create } from "@bufbuild/protobuf";
import { Action } from "./gen/ambientlab/v1/authorization_pb.js";
import {
  HttpRouteSchema,
  L7PolicySchema,
  L7Target_Kind,
  PathMatch_Type,
  type HttpRoute as PbHttpRoute,
  type L7Policy as PbL7Policy,
} from "./gen/ambientlab/v1/waypoint_pb.js";
import { bad, portsFrom, stringMatchFrom, stringMatchToProto } from "./convert.ts";
import type { HttpRoute, L7Policy } from "./types.ts";

export const TYPE_HTTP_ROUTE = "type.googleapis.com/ambientlab.v1.HttpRoute";
export const TYPE_L7_POLICY = "type.googleapis.com/ambientlab.v1.L7Policy";

const SERVICE_KEY = /^[^/]+\/[^/]+$/;
const HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;

export function httpRouteToProto(r: HttpRoute): PbHttpRoute {
  return create(HttpRouteSchema, {
    name: r.name,
    namespace: r.namespace,
    parents: [...r.parents],
    rules: r.rules.map((rule) => ({
      matches: rule.matches.map((m) => ({
        ...(m.path ? { path: { type: m.path.type === "Exact" ? PathMatch_Type.EXACT : PathMatch_Type.PATH_PREFIX, value: m.path.value } } : {}),
        method: m.method ?? "",
        headers: m.headers.map((h) => ({ name: h.name, value: h.value })),
      })),
      backends: rule.backends.map((b) => ({ service: b.service, port: b.port, weight: b.weight })),
      ...(rule.requestHeaders
        ? { requestHeaders: { set: { ...rule.requestHeaders.set }, add: { ...rule.requestHeaders.add }, remove: [...rule.requestHeaders.remove] } }
        : {}),
    })),
  });
}

export function httpRouteFromProto(p: PbHttpRoute): HttpRoute {
  if (!p.name || !p.namespace) bad("route needs a name and a namespace");
  if (p.parents.length === 0) bad(`route ${p.namespace}/${p.name} has no parent service`);
  for (const parent of p.parents) if (!SERVICE_KEY.test(parent)) bad(`route ${p.namespace}/${p.name}: parent "${parent}" is not namespace/hostname`);
  return {
    name: p.name,
    namespace: p.namespace,
    parents: [...p.parents],
    rules: p.rules.map((rule, i) => ({
      matches: rule.matches.map((m) => {
        if (m.path && !m.path.value.startsWith("/")) bad(`rules[${i}]: path "${m.path.value}" must start with /`);
        for (const h of m.headers) if (!HEADER_NAME.test(h.name)) bad(`rules[${i}]: "${h.name}" is not a lower-case header name`);
        return {
          ...(m.path ? { path: { type: m.path.type === PathMatch_Type.EXACT ? ("Exact" as const) : ("PathPrefix" as const), value: m.path.value } } : {}),
          ...(m.method ? { method: m.method } : {}),
          headers: m.headers.map((h) => ({ name: h.name, value: h.value })),
        };
      }),
      backends: rule.backends.map((b) => {
        if (!SERVICE_KEY.test(b.service)) bad(`rules[${i}]: backend "${b.service}" is not namespace/hostname`);
        if (b.port < 1 || b.port > 65535) bad(`rules[${i}]: backend port ${b.port} is outside 1..65535`);
        return { service: b.service, port: b.port, weight: b.weight };
      }),
      ...(rule.requestHeaders
        ? { requestHeaders: { set: { ...rule.requestHeaders.set }, add: { ...rule.requestHeaders.add }, remove: [...rule.requestHeaders.remove] } }
        : {}),
    })),
  };
}

export function l7PolicyToProto(p: L7Policy): PbL7Policy {
  return create(L7PolicySchema, {
    name: p.name,
    namespace: p.namespace,
    action: p.action === "Allow" ? Action.ALLOW : Action.DENY,
    dryRun: p.dryRun,
    targets: p.targets.map((t) => ({ kind: t.kind === "Gateway" ? L7Target_Kind.GATEWAY : L7Target_Kind.SERVICE, namespace: t.namespace, name: t.name })),
    rules: p.rules.map((r) => ({
      from: r.from.map((s) => ({
        principals: s.principals.map(stringMatchToProto),
        notPrincipals: s.notPrincipals.map(stringMatchToProto),
        namespaces: s.namespaces.map(stringMatchToProto),
        notNamespaces: s.notNamespaces.map(stringMatchToProto),
      })),
      to: r.to.map((o) => ({
        methods: [...o.methods],
        notMethods: [...o.notMethods],
        paths: o.paths.map(stringMatchToProto),
        notPaths: o.notPaths.map(stringMatchToProto),
        ports: [...o.ports],
        notPorts: [...o.notPorts],
      })),
    })),
  });
}

export function l7PolicyFromProto(p: PbL7Policy): L7Policy {
  if (!p.name || !p.namespace) bad("L7 policy needs a name and a namespace");
  if (p.targets.length === 0) bad(`L7 policy ${p.namespace}/${p.name} has no target`);
  return {
    name: p.name,
    namespace: p.namespace,
    action: p.action === Action.DENY ? "Deny" : "Allow",
    dryRun: p.dryRun,
    targets: p.targets.map((t) => {
      if (!t.name || !t.namespace) bad(`L7 policy ${p.namespace}/${p.name}: a target needs a name and a namespace`);
      return { kind: t.kind === L7Target_Kind.SERVICE ? ("Service" as const) : ("Gateway" as const), namespace: t.namespace, name: t.name };
    }),
    rules: p.rules.map((r, i) => ({
      from: r.from.map((s) => ({
        principals: s.principals.map(stringMatchFrom),
        notPrincipals: s.notPrincipals.map(stringMatchFrom),
        namespaces: s.namespaces.map(stringMatchFrom),
        notNamespaces: s.notNamespaces.map(stringMatchFrom),
      })),
      to: r.to.map((o, j) => ({
        methods: [...o.methods],
        notMethods: [...o.notMethods],
        paths: o.paths.map(stringMatchFrom),
        notPaths: o.notPaths.map(stringMatchFrom),
        ports: portsFrom(o.ports, `rules[${i}].to[${j}].ports`),
        notPorts: portsFrom(o.notPorts, `rules[${i}].to[${j}].notPorts`),
      })),
    })),
  };
}
