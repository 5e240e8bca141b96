// HTTPRoute matching with the Gateway API's precedence, pure. Among all routes attached to the
// destination service, the most specific match wins: an exact path, then the longest prefix, then a
// method match, then the most header matches, then route namespace/name, then rule order.
import { compareStrings } from "../../shared/index.ts";
import type { BackendRef, HttpRoute, RequestRedirect, RouteMatch, RouteRule } from "../../api/index.ts";

export interface RequestView {
  method: string;
  /** Path without the query string. */
  path: string;
  /** Lower-case names. */
  headers: Readonly<Record<string, string | string[] | undefined>>;
}

/** What the matched rule does to the request and response besides choosing a backend. */
export type RuleActions = Pick<RouteRule, "requestHeaders" | "responseHeaders" | "rewrite" | "timeouts" | "retry" | "mirrors"> & {
  /** The PathPrefix the request matched, for ReplacePrefixMatch. */
  matchedPrefix?: string;
};

export type RouteDecision =
  | ({ kind: "backend"; backend: BackendRef; route?: string } & RuleActions)
  /** The rule redirects: the waypoint answers with a Location. */
  | { kind: "redirect"; route: string; redirect: RequestRedirect; matchedPrefix?: string }
  /** Routes are attached but none matches: 404, as the Gateway API requires. */
  | { kind: "no-route"; message: string }
  /** The matched rule has no backend with weight: 500. */
  | { kind: "no-backend"; route: string; message: string };

interface Candidate {
  route: HttpRoute;
  ruleIndex: number;
  match: RouteMatch;
}

const ALL: RouteMatch = { path: { type: "PathPrefix", value: "/" }, headers: [] };

/** PathPrefix matches whole path elements: "/api" matches "/api" and "/api/x", not "/apix". */
export function pathMatches(m: RouteMatch["path"], path: string): boolean {
  if (!m) return true;
  if (m.type === "Exact") return path === m.value;
  const prefix = m.value.endsWith("/") ? m.value.slice(0, -1) : m.value;
  return prefix === "" || path === prefix || path.startsWith(`${prefix}/`);
}

function headerValue(h: RequestView["headers"], name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v.join(",") : v;
}

export function matchApplies(m: RouteMatch, r: RequestView): boolean {
  return (
    pathMatches(m.path, r.path) &&
    (!m.method || m.method.toUpperCase() === r.method.toUpperCase()) &&
    m.headers.every((h) => headerValue(r.headers, h.name) === h.value)
  );
}

function precedence(a: Candidate, b: Candidate): number {
  const exact = (c: Candidate) => (c.match.path?.type === "Exact" ? 1 : 0);
  // A match without a path is PathPrefix "/" (the Gateway API default).
  const prefixLen = (c: Candidate) => (c.match.path?.type === "Exact" ? Infinity : (c.match.path?.value ?? "/").length);
  return (
    exact(b) - exact(a) ||
    prefixLen(b) - prefixLen(a) ||
    Number(Boolean(b.match.method)) - Number(Boolean(a.match.method)) ||
    b.match.headers.length - a.match.headers.length ||
    compareStrings(`${a.route.namespace}/${a.route.name}`, `${b.route.namespace}/${b.route.name}`) ||
    a.ruleIndex - b.ruleIndex
  );
}

/** Candidates in precedence order; computed once per config version. */
export function orderRules(routes: readonly HttpRoute[]): Candidate[] {
  const out: Candidate[] = [];
  for (const route of routes) {
    route.rules.forEach((rule, ruleIndex) => {
      for (const match of rule.matches.length ? rule.matches : [ALL]) out.push({ route, ruleIndex, match });
    });
  }
  return out.sort(precedence);
}

/**
 * `ordered` are the candidates of the routes attached to the destination service (orderRules);
 * with none attached the request goes to `fallback`, the service itself. `pick(n)` returns [0, n).
 */
export function routeRequest(ordered: readonly Candidate[], fallback: BackendRef, r: RequestView, pick: (n: number) => number): RouteDecision {
  if (ordered.length === 0) return { kind: "backend", backend: fallback };
  const hit = ordered.find((c) => matchApplies(c.match, r));
  if (!hit) return { kind: "no-route", message: `no HTTPRoute rule matches ${r.method} ${r.path}` };
  const rule = hit.route.rules[hit.ruleIndex]!;
  const name = `${hit.route.namespace}/${hit.route.name}`;
  const matchedPrefix = hit.match.path?.type === "PathPrefix" ? hit.match.path.value : undefined;
  const prefix = matchedPrefix !== undefined ? { matchedPrefix } : {};
  if (rule.redirect) return { kind: "redirect", route: name, redirect: rule.redirect, ...prefix };
  const total = rule.backends.reduce((n, b) => n + b.weight, 0);
  if (total <= 0) return { kind: "no-backend", route: name, message: `HTTPRoute ${name} rule ${hit.ruleIndex} has no backend with weight` };
  const actions: RuleActions = {
    ...(rule.requestHeaders ? { requestHeaders: rule.requestHeaders } : {}),
    ...(rule.responseHeaders ? { responseHeaders: rule.responseHeaders } : {}),
    ...(rule.rewrite ? { rewrite: rule.rewrite } : {}),
    ...(rule.timeouts ? { timeouts: rule.timeouts } : {}),
    ...(rule.retry ? { retry: rule.retry } : {}),
    ...(rule.mirrors?.length ? { mirrors: rule.mirrors } : {}),
    ...prefix,
  };
  let at = pick(total);
  for (const b of rule.backends) {
    if (at < b.weight) return { kind: "backend", backend: b, route: name, ...actions };
    at -= b.weight;
  }
  return { kind: "backend", backend: rule.backends[rule.backends.length - 1]!, route: name, ...actions };
}

export type { Candidate as RouteCandidate };
