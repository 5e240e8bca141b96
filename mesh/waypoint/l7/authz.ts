// L7 authorization with Istio's semantics, per request at the waypoint:
//   1. any matching DENY denies; 2. no ALLOW policy allows; 3. otherwise an ALLOW must match.
// Pure: the caller supplies the policies that target this waypoint or the destination service.
import type { StringMatch } from "../../api/index.ts";
import { principalOf, type Identity } from "../../shared/index.ts";
import { matchString } from "../../api/index.ts";
import type { L7Operation, L7Policy, L7Source, L7Target } from "../../api/index.ts";

export interface RequestFacts {
  srcIdentity: Identity;
  method: string;
  /** The path without its query string, as Istio matches it. */
  path: string;
  port: number;
}

export type L7Decision = { allowed: true; policy?: string } | { allowed: false; policy?: string };

const anyOf = <T>(list: readonly T[], test: (v: T) => boolean) => list.length === 0 || list.some(test);
const noneOf = <T>(list: readonly T[], test: (v: T) => boolean) => list.length === 0 || !list.some(test);
const str = (value: string) => (m: StringMatch) => matchString(m, value);

function sourceMatches(s: L7Source, f: RequestFacts): boolean {
  const principal = principalOf(f.srcIdentity);
  const ns = f.srcIdentity.namespace;
  return anyOf(s.principals, str(principal)) && noneOf(s.notPrincipals, str(principal)) && anyOf(s.namespaces, str(ns)) && noneOf(s.notNamespaces, str(ns));
}

function operationMatches(o: L7Operation, f: RequestFacts): boolean {
  const method = f.method.toUpperCase();
  return (
    anyOf(o.methods, (m) => m.toUpperCase() === method) &&
    noneOf(o.notMethods, (m) => m.toUpperCase() === method) &&
    anyOf(o.paths, str(f.path)) &&
    noneOf(o.notPaths, str(f.path)) &&
    anyOf(o.ports, (p) => p === f.port) &&
    noneOf(o.notPorts, (p) => p === f.port)
  );
}

export function l7PolicyMatches(p: L7Policy, f: RequestFacts): boolean {
  return p.rules.some((r) => anyOf(r.from, (s) => sourceMatches(s, f)) && anyOf(r.to, (o) => operationMatches(o, f)));
}

/** Policies for traffic through waypoint `gateway` ("ns/name") to the service `service` ({namespace, name}). */
export function policiesFor(
  all: readonly L7Policy[],
  gateway: { namespace: string; name: string },
  service: { namespace: string; name: string } | undefined,
): L7Policy[] {
  const hits = (t: L7Target) =>
    t.kind === "Gateway"
      ? t.namespace === gateway.namespace && t.name === gateway.name
      : service !== undefined && t.namespace === service.namespace && t.name === service.name;
  return all.filter((p) => p.targets.some(hits));
}

export function authorizeRequest(policies: readonly L7Policy[], f: RequestFacts): L7Decision {
  const live = policies.filter((p) => !p.dryRun);
  for (const p of live) if (p.action === "Deny" && l7PolicyMatches(p, f)) return { allowed: false, policy: `${p.namespace}/${p.name}` };
  const allows = live.filter((p) => p.action === "Allow");
  if (allows.length === 0) return { allowed: true };
  for (const p of allows) if (l7PolicyMatches(p, f)) return { allowed: true, policy: `${p.namespace}/${p.name}` };
  return { allowed: false };
}
