// L4 authorization with Istio's semantics, evaluated at the destination on every connection:
//   1. any matching DENY denies; 2. no ALLOW policy allows; 3. otherwise an ALLOW must match.
// Pure: the caller supplies the policies that apply to the destination workload.
import { CidrSet } from "../../shared/index.ts";
import { principalOf, type Identity } from "../../shared/index.ts";
import { matchString } from "../../api/index.ts";
import type { Authorization, Match } from "../../proxy/index.ts";

export interface ConnectionFacts {
  /** Absent for plaintext (15006) traffic. */
  srcIdentity: Identity | undefined;
  srcIp: string;
  dstIp: string;
  dstPort: number;
}

export type Decision =
  | { allowed: true; reason: "no-policies" | "no-allow-policies" | "allowed"; policy?: string }
  | { allowed: false; reason: "denied" | "not-allowed"; policy?: string };

const cidrCache = new WeakMap<readonly string[], CidrSet>();

function cidrs(list: readonly string[]): CidrSet {
  let set = cidrCache.get(list);
  if (!set) {
    set = new CidrSet(list);
    cidrCache.set(list, set);
  }
  return set;
}

/** Empty list: no constraint. Otherwise any value may match. */
function anyOf<T>(list: readonly T[], test: (v: T) => boolean): boolean {
  return list.length === 0 || list.some(test);
}

/** Empty list: no constraint. Otherwise no value may match. */
function noneOf<T>(list: readonly T[], test: (v: T) => boolean): boolean {
  return list.length === 0 || !list.some(test);
}

export function matchMatches(m: Match, c: ConnectionFacts): boolean {
  const principal = c.srcIdentity ? principalOf(c.srcIdentity) : undefined;
  const ns = c.srcIdentity?.namespace;
  return (
    anyOf(m.namespaces, (s) => matchString(s, ns)) &&
    noneOf(m.notNamespaces, (s) => matchString(s, ns)) &&
    anyOf(m.principals, (s) => matchString(s, principal)) &&
    noneOf(m.notPrincipals, (s) => matchString(s, principal)) &&
    (m.sourceIps.length === 0 || cidrs(m.sourceIps).contains(c.srcIp)) &&
    (m.notSourceIps.length === 0 || !cidrs(m.notSourceIps).contains(c.srcIp)) &&
    (m.destinationIps.length === 0 || cidrs(m.destinationIps).contains(c.dstIp)) &&
    (m.notDestinationIps.length === 0 || !cidrs(m.notDestinationIps).contains(c.dstIp)) &&
    anyOf(m.destinationPorts, (p) => p === c.dstPort) &&
    noneOf(m.notDestinationPorts, (p) => p === c.dstPort)
  );
}

/** A policy matches when any rule matches; a rule when all its clauses do; a clause when any match does. */
export function policyMatches(p: Authorization, c: ConnectionFacts): boolean {
  return p.rules.some((rule) => rule.clauses.every((clause) => clause.matches.some((m) => matchMatches(m, c))));
}

export function evaluate(policies: readonly Authorization[], c: ConnectionFacts): Decision {
  const live = policies.filter((p) => !p.dryRun);
  if (live.length === 0) return { allowed: true, reason: "no-policies" };
  for (const p of live) {
    if (p.action === "Deny" && policyMatches(p, c)) return { allowed: false, reason: "denied", policy: `${p.namespace}/${p.name}` };
  }
  const allows = live.filter((p) => p.action === "Allow");
  if (allows.length === 0) return { allowed: true, reason: "no-allow-policies" };
  for (const p of allows) {
    if (policyMatches(p, c)) return { allowed: true, reason: "allowed", policy: `${p.namespace}/${p.name}` };
  }
  return { allowed: false, reason: "not-allowed" };
}
