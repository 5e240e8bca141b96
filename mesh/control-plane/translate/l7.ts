// Waypoint resources, pure: HTTPRoutes attached to Services (GAMMA) -> HttpRoute, and
// AuthorizationPolicies bound with targetRefs (a waypoint Gateway or a Service) -> L7Policy.
// Anything a waypoint cannot enforce exactly rejects the whole object with a note that says why:
// a route or policy applied with parts missing would route or authorize differently than written.
import type {
  BackendRef,
  HeaderModifier,
  HttpRoute,
  PathModifier,
  RequestMirror,
  RequestRedirect,
  RouteRetry,
  L7Operation,
  L7Policy,
  L7Rule,
  L7Source,
  L7Target,
  RouteMatch,
  RouteRule,
} from "../../api/index.ts";
import { compareStrings } from "../../shared/index.ts";
import { MAX_MIRRORS, MAX_RETRY_ATTEMPTS, MAX_RETRY_BACKOFF_MS, parseStringMatch } from "../../api/index.ts";
import type { AuthorizationPolicy, AuthorizationPolicyRule, GRPCRoute, HTTPRoute } from "../model/kube.ts";
import type { ResourceNote, TranslateOptions } from "./options.ts";

const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"]);

interface RouteSpec {
  parentRefs?: Array<{ group?: string; kind?: string; name?: string; namespace?: string }>;
  rules?: Array<{
    matches?: Array<{
      path?: { type?: string; value?: string };
      headers?: Array<{ type?: string; name?: string; value?: string }>;
      queryParams?: unknown[];
      method?: string;
    }>;
    filters?: Array<{
      type?: string;
      requestHeaderModifier?: HeaderFilter;
      responseHeaderModifier?: HeaderFilter;
      urlRewrite?: { hostname?: string; path?: PathFilter };
      requestRedirect?: { scheme?: string; hostname?: string; path?: PathFilter; port?: number; statusCode?: number };
      requestMirror?: {
        backendRef?: { group?: string; kind?: string; name?: string; namespace?: string; port?: number };
        percent?: number;
        fraction?: { numerator?: number; denominator?: number };
      };
    }>;
    timeouts?: { request?: string; backendRequest?: string };
    retry?: { codes?: number[]; attempts?: number; backoff?: string };
    sessionPersistence?: unknown;
    backendRefs?: Array<{ group?: string; kind?: string; name?: string; namespace?: string; port?: number; weight?: number }>;
  }>;
}

type HeaderFilter = { set?: Array<{ name: string; value: string }>; add?: Array<{ name: string; value: string }>; remove?: string[] };
type PathFilter = { type?: string; replaceFullPath?: string; replacePrefixMatch?: string };

const SUPPORTED_FILTERS = "RequestHeaderModifier, ResponseHeaderModifier, URLRewrite, RequestRedirect, RequestMirror";
/** Istio's retry attempts when an HTTPRoute's retry leaves them out. */
export const DEFAULT_RETRY_ATTEMPTS = 2;
/** Envoy's base retry interval, used when an HTTPRoute's retry gives no backoff. */
export const DEFAULT_RETRY_BACKOFF_MS = 25;

/** A Gateway API Duration ("1h", "500ms", "1m30s"; at most four parts) in milliseconds; undefined if malformed. */
export function durationMs(d: string): number | undefined {
  if (!/^([0-9]{1,5}(h|m|s|ms)){1,4}$/.test(d)) return undefined;
  const unit: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };
  let ms = 0;
  for (const [, n, u] of d.matchAll(/([0-9]{1,5})(ms|h|m|s)/g)) ms += Number(n) * unit[u!]!;
  return ms;
}

function headerModifier(m: HeaderFilter | undefined): HeaderModifier {
  const kv = (list: Array<{ name: string; value: string }> | undefined) => Object.fromEntries((list ?? []).map((x) => [x.name.toLowerCase(), x.value]));
  return { set: kv(m?.set), add: kv(m?.add), remove: (m?.remove ?? []).map((x) => x.toLowerCase()) };
}

function pathModifier(p: PathFilter | undefined, at: string, problems: string[]): PathModifier | undefined {
  if (!p) return undefined;
  if (p.type === "ReplaceFullPath" && p.replaceFullPath?.startsWith("/")) return { type: "ReplaceFullPath", value: p.replaceFullPath };
  if (p.type === "ReplacePrefixMatch" && p.replacePrefixMatch?.startsWith("/")) return { type: "ReplacePrefixMatch", value: p.replacePrefixMatch };
  problems.push(`${at}: a path modifier needs type ReplaceFullPath or ReplacePrefixMatch and its value starting with /`);
  return undefined;
}

const isCoreService = (group: string | undefined, kind: string | undefined) =>
  (group ?? "") === "" || group === "core" ? (kind ?? "Service") === "Service" : false;

function translateRouteRule(r: NonNullable<RouteSpec["rules"]>[number], i: number, ns: string, opts: TranslateOptions, problems: string[]): RouteRule {
  // Fields the waypoint does not enforce reject the route: never accepted and silently ignored.
  if (r.sessionPersistence !== undefined) problems.push(`rules[${i}].sessionPersistence is not supported`);
  const matches: RouteMatch[] = [];
  for (const [j, m] of (r.matches ?? []).entries()) {
    const at = `rules[${i}].matches[${j}]`;
    if (m.queryParams?.length) problems.push(`${at}.queryParams is not supported`);
    let path: RouteMatch["path"];
    if (m.path) {
      const type = m.path.type ?? "PathPrefix";
      if (type !== "Exact" && type !== "PathPrefix") problems.push(`${at}.path.type ${type} is not supported (Exact, PathPrefix)`);
      else if (!m.path.value?.startsWith("/")) problems.push(`${at}.path.value must start with /`);
      else path = { type, value: m.path.value };
    }
    const headers = (m.headers ?? []).flatMap((h, k) => {
      if ((h.type ?? "Exact") !== "Exact") {
        problems.push(`${at}.headers[${k}].type ${h.type} is not supported (Exact)`);
        return [];
      }
      return h.name ? [{ name: h.name.toLowerCase(), value: h.value ?? "" }] : [];
    });
    const method = m.method?.toUpperCase();
    if (method && !METHODS.has(method)) problems.push(`${at}.method ${m.method} is not an HTTP method`);
    matches.push({ ...(path ? { path } : {}), ...(method ? { method } : {}), headers });
  }
  const extras: { -readonly [K in keyof RouteRule]?: RouteRule[K] } = {};
  for (const [j, f] of (r.filters ?? []).entries()) {
    const at = `rules[${i}].filters[${j}]`;
    if (f.type === "RequestHeaderModifier") extras.requestHeaders = headerModifier(f.requestHeaderModifier);
    else if (f.type === "ResponseHeaderModifier") extras.responseHeaders = headerModifier(f.responseHeaderModifier);
    else if (f.type === "URLRewrite") {
      const path = pathModifier(f.urlRewrite?.path, `${at}.urlRewrite.path`, problems);
      extras.rewrite = { ...(f.urlRewrite?.hostname ? { hostname: f.urlRewrite.hostname } : {}), ...(path ? { path } : {}) };
    } else if (f.type === "RequestRedirect") {
      const rd = f.requestRedirect ?? {};
      const statusCode = rd.statusCode ?? 302;
      if (![301, 302, 303, 307, 308].includes(statusCode))
        problems.push(`${at}.requestRedirect.statusCode ${statusCode} is not supported (301, 302, 303, 307, 308)`);
      const path = pathModifier(rd.path, `${at}.requestRedirect.path`, problems);
      extras.redirect = {
        ...(rd.scheme ? { scheme: rd.scheme } : {}),
        ...(rd.hostname ? { hostname: rd.hostname } : {}),
        ...(path ? { path } : {}),
        ...(rd.port ? { port: rd.port } : {}),
        statusCode: statusCode as RequestRedirect["statusCode"],
      };
    } else if (f.type === "RequestMirror") {
      const m = requestMirror(f.requestMirror, at, ns, opts, problems);
      if (m) extras.mirrors = [...(extras.mirrors ?? []), m];
    } else problems.push(`${at}: filter ${f.type} is not supported (${SUPPORTED_FILTERS})`);
  }
  if (extras.redirect && extras.rewrite) problems.push(`rules[${i}]: RequestRedirect and URLRewrite cannot be on one rule`);
  const prefixMatched = matches.length > 0 && matches.every((m) => m.path?.type === "PathPrefix");
  for (const m of [extras.rewrite?.path, extras.redirect?.path]) {
    if (m?.type === "ReplacePrefixMatch" && !prefixMatched) problems.push(`rules[${i}]: ReplacePrefixMatch needs every match of the rule to be a PathPrefix`);
  }
  if (r.timeouts) {
    const request = r.timeouts.request === undefined ? undefined : durationMs(r.timeouts.request);
    const backend = r.timeouts.backendRequest === undefined ? undefined : durationMs(r.timeouts.backendRequest);
    if (r.timeouts.request !== undefined && request === undefined) problems.push(`rules[${i}].timeouts.request "${r.timeouts.request}" is not a duration`);
    if (r.timeouts.backendRequest !== undefined && backend === undefined)
      problems.push(`rules[${i}].timeouts.backendRequest "${r.timeouts.backendRequest}" is not a duration`);
    // "0s" means no timeout, as the Gateway API says.
    if (request && backend && backend > request) problems.push(`rules[${i}].timeouts.backendRequest must not exceed timeouts.request`);
    if (request || backend) extras.timeouts = { ...(request ? { requestMs: request } : {}), ...(backend ? { backendRequestMs: backend } : {}) };
  }
  if (r.retry) extras.retry = retryOf(r.retry, `rules[${i}].retry`, problems);
  if ((extras.mirrors?.length ?? 0) > MAX_MIRRORS) problems.push(`rules[${i}]: at most ${MAX_MIRRORS} RequestMirror filters`);
  const backends: BackendRef[] = [];
  for (const [j, b] of (r.backendRefs ?? []).entries()) {
    if (!isCoreService(b.group, b.kind)) problems.push(`rules[${i}].backendRefs[${j}]: kind ${b.kind} is not supported (Service)`);
    else if (!b.name || !b.port) problems.push(`rules[${i}].backendRefs[${j}] needs a name and a port`);
    else {
      const bns = b.namespace ?? ns;
      backends.push({ service: `${bns}/${b.name}.${bns}.svc.${opts.clusterDomain}`, port: b.port, weight: b.weight ?? 1 });
    }
  }
  // A redirect answers the request itself: its rule's backendRefs are never used (as in Istio).
  return { matches, backends: extras.redirect ? [] : backends, ...extras };
}

/** HTTPRoute retry -> RouteRetry: Istio's defaults (2 attempts; Envoy's 25 ms base backoff) where the route is silent. */
function retryOf(r: NonNullable<NonNullable<RouteSpec["rules"]>[number]["retry"]>, at: string, problems: string[]): RouteRetry | undefined {
  const attempts = r.attempts ?? DEFAULT_RETRY_ATTEMPTS;
  if (!Number.isInteger(attempts) || attempts < 0 || attempts > MAX_RETRY_ATTEMPTS)
    problems.push(`${at}.attempts ${r.attempts} is not in 0..${MAX_RETRY_ATTEMPTS}`);
  const codes = r.codes ?? [];
  for (const c of codes) if (!Number.isInteger(c) || c < 400 || c > 599) problems.push(`${at}.codes: ${c} is not an HTTP status in 400..599`);
  const backoffMs = r.backoff === undefined ? DEFAULT_RETRY_BACKOFF_MS : durationMs(r.backoff);
  if (backoffMs === undefined) problems.push(`${at}.backoff "${r.backoff}" is not a duration`);
  else if (backoffMs > MAX_RETRY_BACKOFF_MS) problems.push(`${at}.backoff "${r.backoff}" is above ${MAX_RETRY_BACKOFF_MS / 1000} s`);
  return { attempts, codes: [...new Set(codes)].sort((a, b) => a - b), backoffMs: backoffMs ?? DEFAULT_RETRY_BACKOFF_MS };
}

type MirrorFilter = NonNullable<NonNullable<NonNullable<RouteSpec["rules"]>[number]["filters"]>[number]["requestMirror"]>;

/** RequestMirror -> a mirror backend and the share mirrored (percent or fraction; all when neither is given). */
function requestMirror(m: MirrorFilter | undefined, at: string, ns: string, opts: TranslateOptions, problems: string[]): RequestMirror | undefined {
  const b = m?.backendRef;
  if (!b || !isCoreService(b.group, b.kind) || !b.name || !b.port) {
    problems.push(`${at}.requestMirror.backendRef needs a Service name and a port`);
    return undefined;
  }
  if (m.percent !== undefined && m.fraction !== undefined) problems.push(`${at}.requestMirror: percent and fraction cannot both be set`);
  let ppm = 1_000_000;
  if (m.percent !== undefined) {
    if (!Number.isInteger(m.percent) || m.percent < 0 || m.percent > 100) problems.push(`${at}.requestMirror.percent ${m.percent} is not in 0..100`);
    else ppm = m.percent * 10_000;
  } else if (m.fraction !== undefined) {
    const num = m.fraction.numerator ?? 0;
    const den = m.fraction.denominator ?? 100;
    if (!Number.isInteger(num) || !Number.isInteger(den) || num < 0 || den < 1 || num > den)
      problems.push(`${at}.requestMirror.fraction ${num}/${den} must satisfy 0 <= numerator <= denominator, denominator >= 1`);
    else ppm = Math.round((num / den) * 1_000_000);
  }
  const bns = b.namespace ?? ns;
  return { service: `${bns}/${b.name}.${bns}.svc.${opts.clusterDomain}`, port: b.port, partsPerMillion: ppm };
}

export function translateHttpRoutes(routes: readonly HTTPRoute[], opts: TranslateOptions): { routes: HttpRoute[]; notes: ResourceNote[] } {
  const out: HttpRoute[] = [];
  const notes: ResourceNote[] = [];
  for (const route of routes) {
    const ns = route.metadata?.namespace ?? "";
    const name = route.metadata?.name ?? "";
    const note = (status: ResourceNote["status"], reason: string) => notes.push({ kind: "HTTPRoute", namespace: ns, name, status, reason });
    const spec = (route.spec ?? {}) as RouteSpec;
    const parents = (spec.parentRefs ?? [])
      .filter((p) => isCoreService(p.group, p.kind) && p.name)
      .map((p) => {
        const pns = p.namespace ?? ns;
        return `${pns}/${p.name}.${pns}.svc.${opts.clusterDomain}`;
      });
    if (parents.length === 0) {
      note("Ignored", "no parentRef is a Service: only mesh (GAMMA) routes are served, by the Service's waypoint");
      continue;
    }
    const problems: string[] = [];
    const rules = (spec.rules ?? [{}]).map((r, i) => translateRouteRule(r ?? {}, i, ns, opts, problems));
    if (problems.length) {
      note("Rejected", problems.join("; "));
      continue;
    }
    out.push({ name, namespace: ns, parents: [...new Set(parents)].sort(compareStrings), rules });
  }
  out.sort((a, b) => compareStrings(`${a.namespace}/${a.name}`, `${b.namespace}/${b.name}`));
  return { routes: out, notes };
}

interface GrpcRouteSpec {
  parentRefs?: RouteSpec["parentRefs"];
  rules?: Array<{
    matches?: Array<{ method?: { type?: string; service?: string; method?: string }; headers?: Array<{ type?: string; name?: string; value?: string }> }>;
    filters?: Array<{ type?: string; requestHeaderModifier?: HeaderFilter; responseHeaderModifier?: HeaderFilter }>;
    backendRefs?: NonNullable<RouteSpec["rules"]>[number]["backendRefs"];
    sessionPersistence?: unknown;
  }>;
}

const GRPC_FILTERS = new Set(["RequestHeaderModifier", "ResponseHeaderModifier"]);

/**
 * GRPCRoute -> the same HttpRoute a waypoint routes by: a gRPC method is the path /service/method, so a
 * match on service and method is an Exact path and a match on a service alone a PathPrefix /service.
 * What that cannot express (a method without its service, regular expressions) rejects the route.
 * Its name on the wire is "grpcroute:<name>", apart from any HTTPRoute's.
 */
export function grpcRouteAsHttpRoute(route: GRPCRoute, problems: string[]): HTTPRoute {
  const spec = (route.spec ?? {}) as GrpcRouteSpec;
  const rules = (spec.rules ?? [{}]).map((r, i) => ({
    matches: (r.matches ?? []).map((m, j) => {
      const at = `rules[${i}].matches[${j}].method`;
      const mm = m.method;
      let path: { type: string; value: string } | undefined;
      if (mm) {
        if ((mm.type ?? "Exact") !== "Exact") problems.push(`${at}.type ${mm.type} is not supported (Exact)`);
        else if (!mm.service) problems.push(`${at}: a method without its service is not supported`);
        else if (/[/\s]/.test(mm.service) || (mm.method && /[/\s]/.test(mm.method))) problems.push(`${at}: service and method are names, not paths`);
        else path = mm.method ? { type: "Exact", value: `/${mm.service}/${mm.method}` } : { type: "PathPrefix", value: `/${mm.service}` };
      }
      return { ...(path ? { path } : {}), ...(m.headers ? { headers: m.headers } : {}) };
    }),
    filters: (r.filters ?? []).filter((f, j) => {
      if (GRPC_FILTERS.has(f.type ?? "")) return true;
      problems.push(`rules[${i}].filters[${j}]: filter ${f.type} is not supported on a GRPCRoute (RequestHeaderModifier, ResponseHeaderModifier)`);
      return false;
    }),
    ...(r.backendRefs ? { backendRefs: r.backendRefs } : {}),
    ...(r.sessionPersistence !== undefined ? { sessionPersistence: r.sessionPersistence } : {}),
  }));
  return {
    apiVersion: route.apiVersion,
    kind: "HTTPRoute",
    metadata: { ...route.metadata, name: `grpcroute:${route.metadata?.name ?? ""}` },
    spec: { parentRefs: spec.parentRefs ?? [], rules },
  };
}

/** GRPCRoutes attached to Services, through the HTTPRoute translation; notes name the GRPCRoute. */
export function translateGrpcRoutes(routes: readonly GRPCRoute[], opts: TranslateOptions): { routes: HttpRoute[]; notes: ResourceNote[] } {
  const out: HttpRoute[] = [];
  const notes: ResourceNote[] = [];
  for (const route of routes) {
    const problems: string[] = [];
    const r = translateHttpRoutes([grpcRouteAsHttpRoute(route, problems)], opts);
    const name = route.metadata?.name ?? "";
    const ns = route.metadata?.namespace ?? "";
    const reasons = [...problems, ...r.notes.filter((n) => n.status === "Rejected").map((n) => n.reason)];
    if (reasons.length) notes.push({ kind: "GRPCRoute", namespace: ns, name, status: "Rejected", reason: reasons.join("; ") });
    else {
      for (const n of r.notes) notes.push({ ...n, kind: "GRPCRoute", name });
      out.push(...r.routes);
    }
  }
  return { routes: out, notes };
}

function translateL7Rule(r: AuthorizationPolicyRule, i: number, problems: string[]): L7Rule {
  if (r.when?.length) problems.push(`rules[${i}].when is not supported`);
  const from: L7Source[] = (r.from ?? []).map((f, j) => {
    const s = f.source ?? {};
    for (const k of ["ipBlocks", "notIpBlocks", "remoteIpBlocks", "notRemoteIpBlocks", "requestPrincipals", "notRequestPrincipals"] as const) {
      if (s[k]?.length) problems.push(`rules[${i}].from[${j}].source.${k} is not supported`);
    }
    return {
      principals: (s.principals ?? []).map(parseStringMatch),
      notPrincipals: (s.notPrincipals ?? []).map(parseStringMatch),
      namespaces: (s.namespaces ?? []).map(parseStringMatch),
      notNamespaces: (s.notNamespaces ?? []).map(parseStringMatch),
    };
  });
  const to: L7Operation[] = (r.to ?? []).map((t, j) => {
    const o = t.operation ?? {};
    if (o.hosts?.length || o.notHosts?.length) problems.push(`rules[${i}].to[${j}].operation.hosts is not supported`);
    const ports = (list: string[] | undefined, field: string) =>
      (list ?? []).flatMap((p) => {
        const n = Number(p);
        if (!Number.isInteger(n) || n < 1 || n > 65535) {
          problems.push(`rules[${i}].to[${j}].operation.${field}: "${p}" is not a port`);
          return [];
        }
        return [n];
      });
    return {
      methods: (o.methods ?? []).map((m) => m.toUpperCase()),
      notMethods: (o.notMethods ?? []).map((m) => m.toUpperCase()),
      paths: (o.paths ?? []).map(parseStringMatch),
      notPaths: (o.notPaths ?? []).map(parseStringMatch),
      ports: ports(o.ports, "ports"),
      notPorts: ports(o.notPorts, "notPorts"),
    };
  });
  return { from, to };
}

export function translateL7Policies(aps: readonly AuthorizationPolicy[]): { policies: L7Policy[]; notes: ResourceNote[] } {
  const out: L7Policy[] = [];
  const notes: ResourceNote[] = [];
  for (const ap of aps) {
    const spec = ap.spec ?? {};
    const refs = [...(spec.targetRef ? [spec.targetRef] : []), ...(spec.targetRefs ?? [])];
    if (refs.length === 0) continue;
    const ns = ap.metadata?.namespace ?? "";
    const name = ap.metadata?.name ?? "";
    const problems: string[] = [];
    const targets: L7Target[] = [];
    for (const [i, t] of refs.entries()) {
      if (t.namespace && t.namespace !== ns) problems.push(`targetRefs[${i}] must be in the policy's namespace ${ns}`);
      else if (t.kind === "Gateway" && (t.group ?? "gateway.networking.k8s.io") === "gateway.networking.k8s.io")
        targets.push({ kind: "Gateway", namespace: ns, name: t.name });
      else if (t.kind === "Service" && (t.group ?? "") === "") targets.push({ kind: "Service", namespace: ns, name: t.name });
      else problems.push(`targetRefs[${i}]: kind ${t.group ? `${t.group}/` : ""}${t.kind} is not supported (Gateway, Service)`);
    }
    const action = (spec.action ?? "ALLOW").toUpperCase();
    if (action !== "ALLOW" && action !== "DENY") problems.push(`action ${action} is not supported by the waypoint (ALLOW, DENY)`);
    const rules = (spec.rules ?? []).map((r, i) => translateL7Rule(r ?? {}, i, problems));
    for (const r of rules)
      for (const o of r.to) for (const m of [...o.methods, ...o.notMethods]) if (!METHODS.has(m)) problems.push(`method ${m} is not an HTTP method`);
    if (problems.length) {
      notes.push({ kind: "AuthorizationPolicy", namespace: ns, name, status: "Rejected", reason: problems.join("; ") });
      continue;
    }
    out.push({
      name,
      namespace: ns,
      action: action === "ALLOW" ? "Allow" : "Deny",
      targets,
      rules,
      dryRun: ap.metadata?.annotations?.["istio.io/dry-run"] === "true",
    });
  }
  out.sort((a, b) => compareStrings(`${a.namespace}/${a.name}`, `${b.namespace}/${b.name}`));
  return { policies: out, notes };
}
