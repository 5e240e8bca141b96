// The waypoint's L7 resources, in the shapes of the Gateway API HTTPRoute (GAMMA: parentRefs are
// Services) and of Istio's AuthorizationPolicy when it targets a waypoint or a Service behind one.
import type { StringMatch } from "./types.ts";

export type PathMatch = { type: "Exact" | "PathPrefix"; value: string };

export interface HeaderMatch {
  /** Lower-case header name; exact value. */
  name: string;
  value: string;
}

/** All given conditions must hold. */
export interface RouteMatch {
  path?: PathMatch;
  method?: string;
  headers: readonly HeaderMatch[];
}

export interface BackendRef {
  /** "namespace/hostname". */
  service: string;
  port: number;
  weight: number;
}

export interface HeaderModifier {
  set: Readonly<Record<string, string>>;
  add: Readonly<Record<string, string>>;
  remove: readonly string[];
}

/** The Gateway API's HTTPPathModifier: the whole path, or the part the rule's PathPrefix matched. */
export type PathModifier = { type: "ReplaceFullPath" | "ReplacePrefixMatch"; value: string };

export interface UrlRewrite {
  hostname?: string;
  path?: PathModifier;
}

export interface RequestRedirect {
  scheme?: string;
  hostname?: string;
  path?: PathModifier;
  port?: number;
  statusCode: 301 | 302 | 303 | 307 | 308;
}

/** HTTPRoute retry, as Istio applies it (see waypoint.proto RouteRetry). */
export interface RouteRetry {
  /** Retries after the first attempt. */
  attempts: number;
  /** HTTP statuses that are retried (connection failures, refused streams and gRPC UNAVAILABLE/CANCELLED always are). */
  codes: readonly number[];
  /** The first wait between attempts; doubled per retry, capped at ten times this. */
  backoffMs: number;
}

/** RequestMirror: a copy of the request goes to this backend; its answer is dropped. */
export interface RequestMirror {
  /** "namespace/hostname". */
  service: string;
  port: number;
  /** Share of requests mirrored, 0..1_000_000 parts per million. */
  partsPerMillion: number;
}

export interface RouteRule {
  /** Any may match; none means every request. */
  matches: readonly RouteMatch[];
  backends: readonly BackendRef[];
  requestHeaders?: HeaderModifier;
  responseHeaders?: HeaderModifier;
  rewrite?: UrlRewrite;
  /** Answered by the waypoint: the rule has no backends. */
  redirect?: RequestRedirect;
  /** HTTPRoute timeouts, in milliseconds. */
  timeouts?: { requestMs?: number; backendRequestMs?: number };
  retry?: RouteRetry;
  mirrors?: readonly RequestMirror[];
}

export interface HttpRoute {
  name: string;
  namespace: string;
  /** Services ("namespace/hostname") whose traffic this route decides. */
  parents: readonly string[];
  rules: readonly RouteRule[];
}

/** AuthorizationPolicy `from.source`: fields AND-ed, values OR-ed, `not*` must all miss. */
export interface L7Source {
  principals: readonly StringMatch[];
  notPrincipals: readonly StringMatch[];
  namespaces: readonly StringMatch[];
  notNamespaces: readonly StringMatch[];
}

/** AuthorizationPolicy `to.operation`. */
export interface L7Operation {
  methods: readonly string[];
  notMethods: readonly string[];
  paths: readonly StringMatch[];
  notPaths: readonly StringMatch[];
  ports: readonly number[];
  notPorts: readonly number[];
}

/** A rule matches when any `from` and any `to` match (an empty list matches everything). */
export interface L7Rule {
  from: readonly L7Source[];
  to: readonly L7Operation[];
}

export type L7Target = { kind: "Gateway"; namespace: string; name: string } | { kind: "Service"; namespace: string; name: string };

export interface L7Policy {
  name: string;
  namespace: string;
  action: "Allow" | "Deny";
  targets: readonly L7Target[];
  /** Rules are OR-ed; a policy with no rules matches nothing. */
  rules: readonly L7Rule[];
  dryRun: boolean;
}
