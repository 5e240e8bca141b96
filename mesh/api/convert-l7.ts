// Waypoint resources <-> protobuf (mesh/api/proto/ambientlab/v1/waypoint.proto). Decoding validates
// at the edge: one bad route or policy is rejected (NACKed) on its own.
import { create } from "@bufbuild/protobuf";
import { Action } from "./gen/ambientlab/v1/authorization_pb.js";
import {
  HttpRouteSchema,
  L7PolicySchema,
  L7Target_Kind,
  PathMatch_Type,
  PathModifier_Type,
  type HeaderModifier as PbHeaderModifier,
  type PathModifier as PbPathModifier,
  type HttpRoute as PbHttpRoute,
  type L7Policy as PbL7Policy,
} from "./gen/ambientlab/v1/waypoint_pb.js";
import { bad, portsFrom, stringMatchFrom, stringMatchToProto } from "./convert.ts";
import type { HeaderModifier, HttpRoute, L7Policy, PathModifier, RequestRedirect, RouteRule } from "./types.ts";

export const TYPE_HTTP_ROUTE = "type.googleapis.com/ambientlab.v1.HttpRoute";
export const TYPE_L7_POLICY = "type.googleapis.com/ambientlab.v1.L7Policy";

const SERVICE_KEY = /^[^/]+\/[^/]+$/;
const HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;
/** A header value or hostname a peer could not use to split a request (no CR, LF or NUL). */
const SAFE_VALUE = /^[^\r\n\0]*$/;
const HOSTNAME = /^[A-Za-z0-9.-]{1,253}$/;
const REDIRECT_CODES = new Set([301, 302, 303, 307, 308]);
/** Every attempt holds a request's resources again: a route asks for at most this many retries. */
export const MAX_RETRY_ATTEMPTS = 10;
/** A wait between attempts longer than this is a configuration mistake, not a backoff. */
export const MAX_RETRY_BACKOFF_MS = 60_000;
/** Mirrors per rule (each one is another upstream request per request). */
export const MAX_MIRRORS = 4;

const headersOut = (m: HeaderModifier) => ({ set: { ...m.set }, add: { ...m.add }, remove: [...m.remove] });
const pathOut = (m: PathModifier) => ({
  type: m.type === "ReplaceFullPath" ? PathModifier_Type.REPLACE_FULL_PATH : PathModifier_Type.REPLACE_PREFIX_MATCH,
  value: m.value,
});

function headersFrom(m: PbHeaderModifier, at: string): HeaderModifier {
  for (const k of [...Object.keys(m.set), ...Object.keys(m.add), ...m.remove]) if (!HEADER_NAME.test(k)) bad(`${at}: "${k}" is not a lower-case header name`);
  for (const v of [...Object.values(m.set), ...Object.values(m.add)]) if (!SAFE_VALUE.test(v)) bad(`${at}: a header value holds CR, LF or NUL`);
  return { set: { ...m.set }, add: { ...m.add }, remove: [...m.remove] };
}

function pathFrom(m: PbPathModifier, at: string): PathModifier {
  if (!m.value.startsWith("/") || !SAFE_VALUE.test(m.value) || m.value.includes(" "))
    bad(`${at}: path "${m.value}" must start with / and hold no spaces or line breaks`);
  return { type: m.type === PathModifier_Type.REPLACE_FULL_PATH ? "ReplaceFullPath" : "ReplacePrefixMatch", value: m.value };
}

function hostnameFrom(h: string, at: string): string | undefined {
  if (h && !HOSTNAME.test(h)) bad(`${at}: "${h}" is not a hostname`);
  return h || undefined;
}

/** The rule's filters and timeouts, checked as the Gateway API constrains them. */
function ruleExtrasFrom(rule: PbHttpRoute["rules"][number], i: number, matches: RouteRule["matches"]): Partial<RouteRule> {
  const at = `rules[${i}]`;
  const out: { -readonly [K in keyof RouteRule]?: RouteRule[K] } = {};
  if (rule.requestHeaders) out.requestHeaders = headersFrom(rule.requestHeaders, `${at}.requestHeaders`);
  if (rule.responseHeaders) out.responseHeaders = headersFrom(rule.responseHeaders, `${at}.responseHeaders`);
  const prefixOnly = (m: PathModifier | undefined, where: string) => {
    if (m?.type === "ReplacePrefixMatch" && (matches.length === 0 || matches.some((x) => x.path?.type !== "PathPrefix"))) {
      bad(`${where}: ReplacePrefixMatch needs every match of the rule to be a PathPrefix`);
    }
  };
  if (rule.rewrite) {
    const hostname = hostnameFrom(rule.rewrite.hostname, `${at}.rewrite.hostname`);
    const path = rule.rewrite.path && pathFrom(rule.rewrite.path, `${at}.rewrite.path`);
    prefixOnly(path, `${at}.rewrite.path`);
    out.rewrite = { ...(hostname ? { hostname } : {}), ...(path ? { path } : {}) };
  }
  if (rule.redirect) {
    const r = rule.redirect;
    if (rule.backends.length) bad(`${at}: a redirect answers the request itself and takes no backends`);
    if (rule.rewrite) bad(`${at}: a redirect and a rewrite cannot be on one rule`);
    if (r.scheme && r.scheme !== "http" && r.scheme !== "https") bad(`${at}.redirect.scheme: "${r.scheme}" is not http or https`);
    if (r.port > 65535) bad(`${at}.redirect.port ${r.port} is outside 1..65535`);
    if (!REDIRECT_CODES.has(r.statusCode)) bad(`${at}.redirect.statusCode ${r.statusCode} is not 301, 302, 303, 307 or 308`);
    const hostname = hostnameFrom(r.hostname, `${at}.redirect.hostname`);
    const path = r.path && pathFrom(r.path, `${at}.redirect.path`);
    prefixOnly(path, `${at}.redirect.path`);
    out.redirect = {
      ...(r.scheme ? { scheme: r.scheme } : {}),
      ...(hostname ? { hostname } : {}),
      ...(path ? { path } : {}),
      ...(r.port ? { port: r.port } : {}),
      statusCode: r.statusCode as RequestRedirect["statusCode"],
    };
  }
  if (rule.requestTimeoutMs || rule.backendRequestTimeoutMs) {
    if (rule.requestTimeoutMs && rule.backendRequestTimeoutMs > rule.requestTimeoutMs) bad(`${at}: the backend request timeout exceeds the request timeout`);
    out.timeouts = {
      ...(rule.requestTimeoutMs ? { requestMs: rule.requestTimeoutMs } : {}),
      ...(rule.backendRequestTimeoutMs ? { backendRequestMs: rule.backendRequestTimeoutMs } : {}),
    };
  }
  if (rule.retry) {
    const r = rule.retry;
    if (r.attempts > MAX_RETRY_ATTEMPTS) bad(`${at}.retry.attempts ${r.attempts} is above ${MAX_RETRY_ATTEMPTS}`);
    for (const c of r.codes) if (c < 400 || c > 599) bad(`${at}.retry.codes: ${c} is not an HTTP status in 400..599`);
    if (r.backoffMs > MAX_RETRY_BACKOFF_MS) bad(`${at}.retry.backoffMs ${r.backoffMs} is above ${MAX_RETRY_BACKOFF_MS}`);
    out.retry = { attempts: r.attempts, codes: [...r.codes], backoffMs: r.backoffMs };
  }
  if (rule.mirrors.length) {
    if (rule.mirrors.length > MAX_MIRRORS) bad(`${at}: ${rule.mirrors.length} mirrors, at most ${MAX_MIRRORS}`);
    out.mirrors = rule.mirrors.map((m, j) => {
      if (!SERVICE_KEY.test(m.service)) bad(`${at}.mirrors[${j}]: "${m.service}" is not namespace/hostname`);
      if (m.port < 1 || m.port > 65535) bad(`${at}.mirrors[${j}]: port ${m.port} is outside 1..65535`);
      if (m.partsPerMillion > 1_000_000) bad(`${at}.mirrors[${j}]: ${m.partsPerMillion} parts per million is above 1000000`);
      return { service: m.service, port: m.port, partsPerMillion: m.partsPerMillion };
    });
  }
  return out;
}

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
      ...(rule.requestHeaders ? { requestHeaders: headersOut(rule.requestHeaders) } : {}),
      ...(rule.responseHeaders ? { responseHeaders: headersOut(rule.responseHeaders) } : {}),
      ...(rule.rewrite ? { rewrite: { hostname: rule.rewrite.hostname ?? "", ...(rule.rewrite.path ? { path: pathOut(rule.rewrite.path) } : {}) } } : {}),
      ...(rule.redirect
        ? {
            redirect: {
              scheme: rule.redirect.scheme ?? "",
              hostname: rule.redirect.hostname ?? "",
              ...(rule.redirect.path ? { path: pathOut(rule.redirect.path) } : {}),
              port: rule.redirect.port ?? 0,
              statusCode: rule.redirect.statusCode,
            },
          }
        : {}),
      requestTimeoutMs: rule.timeouts?.requestMs ?? 0,
      backendRequestTimeoutMs: rule.timeouts?.backendRequestMs ?? 0,
      ...(rule.retry ? { retry: { attempts: rule.retry.attempts, codes: [...rule.retry.codes], backoffMs: rule.retry.backoffMs } } : {}),
      mirrors: (rule.mirrors ?? []).map((m) => ({ service: m.service, port: m.port, partsPerMillion: m.partsPerMillion })),
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
    rules: p.rules.map((rule, i) => {
      const matches = rule.matches.map((m) => {
        if (m.path && !m.path.value.startsWith("/")) bad(`rules[${i}]: path "${m.path.value}" must start with /`);
        for (const h of m.headers) if (!HEADER_NAME.test(h.name)) bad(`rules[${i}]: "${h.name}" is not a lower-case header name`);
        return {
          ...(m.path ? { path: { type: m.path.type === PathMatch_Type.EXACT ? ("Exact" as const) : ("PathPrefix" as const), value: m.path.value } } : {}),
          ...(m.method ? { method: m.method } : {}),
          headers: m.headers.map((h) => ({ name: h.name, value: h.value })),
        };
      });
      return {
        matches,
        backends: rule.backends.map((b) => {
          if (!SERVICE_KEY.test(b.service)) bad(`rules[${i}]: backend "${b.service}" is not namespace/hostname`);
          if (b.port < 1 || b.port > 65535) bad(`rules[${i}]: backend port ${b.port} is outside 1..65535`);
          return { service: b.service, port: b.port, weight: b.weight };
        }),
        ...ruleExtrasFrom(rule, i, matches),
      };
    }),
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
