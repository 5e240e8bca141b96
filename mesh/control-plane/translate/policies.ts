// AuthorizationPolicy and PeerAuthentication -> ztunnel's L4 Authorization, with Istio's rules:
// - policies with targetRef(s) belong to a waypoint, not ztunnel;
// - an ALLOW rule with L7 fields is dropped (more restrictive: if it was the only rule, nothing is allowed);
// - a DENY rule with L7 fields is kept without them (also more restrictive);
// - PeerAuthentication STRICT becomes a DENY of traffic without a peer identity, attached to the workloads
//   whose effective mode (workload > namespace > mesh, UNSET inherits) is STRICT.
// Pure. Invalid policies are rejected on their own with every problem listed.
import type { Authorization, Clause, Match, Rule } from "../../api/index.ts";
import { parseCidr } from "../../shared/index.ts";
import type {
  AuthorizationPolicy,
  AuthorizationPolicyCondition,
  AuthorizationPolicyOperation,
  AuthorizationPolicySource,
  PeerAuthentication,
} from "../model/kube.ts";
import type { ResourceNote, TranslateOptions } from "./options.ts";
import { compareStrings } from "../../shared/index.ts";
import { emptyMatch, parseStringMatch } from "../../api/index.ts";

const L7_SOURCE = ["requestPrincipals", "notRequestPrincipals", "remoteIpBlocks", "notRemoteIpBlocks"] as const;
const L7_OPERATION = ["hosts", "notHosts", "methods", "notMethods", "paths", "notPaths"] as const;
const L4_CONDITIONS = new Set(["source.ip", "source.namespace", "source.principal", "destination.ip", "destination.port"]);

interface RuleResult {
  rule: Rule;
  l7: string[];
}

function checkCidrs(list: string[] | undefined, field: string, problems: string[]): string[] {
  for (const c of list ?? []) {
    try {
      parseCidr(c);
    } catch {
      problems.push(`${field}: "${c}" is not an IP address or CIDR block`);
    }
  }
  return list ?? [];
}

function checkPorts(list: string[] | undefined, field: string, problems: string[]): number[] {
  return (list ?? []).flatMap((p) => {
    const n = Number(p);
    if (!/^\d+$/.test(String(p)) || n < 1 || n > 65535) {
      problems.push(`${field}: "${p}" is not a port number 1..65535`);
      return [];
    }
    return [n];
  });
}

function sourceMatch(src: AuthorizationPolicySource, where: string, problems: string[], l7: string[]): Match {
  for (const f of L7_SOURCE) if (src[f]?.length) l7.push(`${where}.${f}`);
  return {
    ...emptyMatch(),
    principals: (src.principals ?? []).map(parseStringMatch),
    notPrincipals: (src.notPrincipals ?? []).map(parseStringMatch),
    namespaces: (src.namespaces ?? []).map(parseStringMatch),
    notNamespaces: (src.notNamespaces ?? []).map(parseStringMatch),
    sourceIps: checkCidrs(src.ipBlocks, `${where}.ipBlocks`, problems),
    notSourceIps: checkCidrs(src.notIpBlocks, `${where}.notIpBlocks`, problems),
  };
}

function operationMatch(op: AuthorizationPolicyOperation, where: string, problems: string[], l7: string[]): Match {
  for (const f of L7_OPERATION) if (op[f]?.length) l7.push(`${where}.${f}`);
  return {
    ...emptyMatch(),
    destinationPorts: checkPorts(op.ports, `${where}.ports`, problems),
    notDestinationPorts: checkPorts(op.notPorts, `${where}.notPorts`, problems),
  };
}

function conditionClause(c: AuthorizationPolicyCondition, where: string, problems: string[], l7: string[]): Clause | undefined {
  if (!L4_CONDITIONS.has(c.key)) {
    l7.push(`${where} (${c.key})`);
    return undefined;
  }
  const values = c.values ?? [];
  const notValues = c.notValues ?? [];
  const m = emptyMatch();
  switch (c.key) {
    case "source.ip":
      m.sourceIps = checkCidrs(values, `${where}.values`, problems);
      m.notSourceIps = checkCidrs(notValues, `${where}.notValues`, problems);
      break;
    case "source.namespace":
      m.namespaces = values.map(parseStringMatch);
      m.notNamespaces = notValues.map(parseStringMatch);
      break;
    case "source.principal":
      m.principals = values.map(parseStringMatch);
      m.notPrincipals = notValues.map(parseStringMatch);
      break;
    case "destination.ip":
      m.destinationIps = checkCidrs(values, `${where}.values`, problems);
      m.notDestinationIps = checkCidrs(notValues, `${where}.notValues`, problems);
      break;
    case "destination.port":
      m.destinationPorts = checkPorts(values, `${where}.values`, problems);
      m.notDestinationPorts = checkPorts(notValues, `${where}.notValues`, problems);
      break;
  }
  return { matches: [m] };
}

function translateRule(rule: NonNullable<NonNullable<AuthorizationPolicy["spec"]>["rules"]>[number], i: number, problems: string[]): RuleResult {
  const l7: string[] = [];
  const clauses: Clause[] = [];
  if (rule.from?.length) {
    clauses.push({ matches: rule.from.map((f, j) => sourceMatch(f.source ?? {}, `rules[${i}].from[${j}].source`, problems, l7)) });
  }
  if (rule.to?.length) {
    clauses.push({ matches: rule.to.map((t, j) => operationMatch(t.operation ?? {}, `rules[${i}].to[${j}].operation`, problems, l7)) });
  }
  for (const [j, c] of (rule.when ?? []).entries()) {
    if (!c.key) {
      problems.push(`rules[${i}].when[${j}]: key is required`);
      continue;
    }
    const clause = conditionClause(c, `rules[${i}].when[${j}]`, problems, l7);
    if (clause) clauses.push(clause);
  }
  return { rule: { clauses }, l7 };
}

function scopeOf(meta: { namespace?: string }, selector: Record<string, string> | undefined, opts: TranslateOptions): Authorization["scope"] {
  if (selector && Object.keys(selector).length > 0) return "WorkloadSelector";
  return meta.namespace === opts.rootNamespace ? "Global" : "Namespace";
}

export interface PolicyTranslation {
  policies: Authorization[];
  /** policy key "ns/name" -> the label selector, for selector-scoped policies. */
  selectors: Map<string, { namespace: string; matchLabels: Record<string, string> }>;
  notes: ResourceNote[];
  /** PeerAuthentication after precedence: whether a pod gets the static STRICT policy. */
  strictFor: (namespace: string, labels: Record<string, string> | undefined) => boolean;
}

export function translatePolicies(aps: readonly AuthorizationPolicy[], pas: readonly PeerAuthentication[], opts: TranslateOptions): PolicyTranslation {
  const policies: Authorization[] = [];
  const selectors: PolicyTranslation["selectors"] = new Map();
  const notes: ResourceNote[] = [];

  for (const ap of aps) {
    const ns = ap.metadata?.namespace ?? "";
    const name = ap.metadata?.name ?? "";
    const note = (status: ResourceNote["status"], reason: string) => notes.push({ kind: "AuthorizationPolicy", namespace: ns, name, status, reason });
    const spec = ap.spec ?? {};
    // Bound with targetRefs: a waypoint policy (translate/l7.ts), not ztunnel's.
    if (spec.targetRef || spec.targetRefs?.length) continue;
    const action = (spec.action ?? "ALLOW").toUpperCase();
    if (action !== "ALLOW" && action !== "DENY") {
      note("Rejected", `action ${action} is not supported by ztunnel (use ALLOW or DENY)`);
      continue;
    }
    const problems: string[] = [];
    const results = (spec.rules ?? []).map((r, i) => translateRule(r ?? {}, i, problems));
    if (problems.length) {
      note("Rejected", problems.join("; "));
      continue;
    }
    const l7 = results.flatMap((r) => r.l7);
    let rules: Rule[];
    if (action === "ALLOW") {
      rules = results.filter((r) => r.l7.length === 0).map((r) => r.rule);
      if (l7.length) {
        note(
          "Partial",
          `ALLOW rules with HTTP fields are not enforced by ztunnel and were dropped (${l7.join(", ")})${rules.length === 0 ? "; no rule is left, so this policy allows nothing" : ""}; bind the policy to a waypoint with targetRefs to enforce them`,
        );
      }
    } else {
      rules = results.map((r) => r.rule);
      if (l7.length)
        note(
          "Partial",
          `DENY rules are enforced without their HTTP fields (${l7.join(", ")}), which denies more than written; bind the policy to a waypoint with targetRefs for exact HTTP matching`,
        );
    }
    const selector = spec.selector?.matchLabels;
    const scope = scopeOf({ namespace: ns }, selector, opts);
    if (scope === "WorkloadSelector") selectors.set(`${ns}/${name}`, { namespace: ns, matchLabels: selector! });
    policies.push({
      name,
      namespace: ns,
      scope,
      action: action === "ALLOW" ? "Allow" : "Deny",
      rules,
      dryRun: ap.metadata?.annotations?.["istio.io/dry-run"] === "true",
    });
  }

  const peer = translatePeerAuthentications(pas, opts);
  notes.push(...peer.notes);
  if (peer.anyStrict) {
    policies.push(STATIC_STRICT(opts.rootNamespace));
  }
  policies.sort((a, b) => compareStrings(`${a.namespace}/${a.name}`, `${b.namespace}/${b.name}`));
  return { policies, selectors, notes, strictFor: peer.strictFor };
}

/**
 * PeerAuthentication STRICT in ambient mode is a DENY of identity-less (plaintext) traffic. It is one
 * static policy in the root namespace, attached to exactly the workloads whose effective mode is STRICT
 * (as istiod's istio_converted_static_strict is), so precedence is decided here and not by adding
 * policies up: a DENY could never be overridden by a narrower PERMISSIVE.
 */
export const STATIC_STRICT_NAME = "istio_converted_static_strict";
const STATIC_STRICT = (rootNamespace: string): Authorization => ({
  name: STATIC_STRICT_NAME,
  namespace: rootNamespace,
  scope: "WorkloadSelector",
  action: "Deny",
  rules: [{ clauses: [{ matches: [{ ...emptyMatch(), notPrincipals: [{ kind: "presence" }] }] }] }],
  dryRun: false,
});

type MtlsMode = "UNSET" | "PERMISSIVE" | "STRICT" | "DISABLE";

interface PeerAuthTranslation {
  anyStrict: boolean;
  /** Whether a pod (namespace and labels) ends up STRICT after precedence. */
  strictFor: (namespace: string, labels: Record<string, string> | undefined) => boolean;
  notes: ResourceNote[];
}

/**
 * Istio's precedence (istio.io/latest/docs/concepts/security/#peer-authentication): the narrowest policy
 * wins, a workload-selector policy over the namespace-wide one over the mesh-wide one (root namespace, no
 * selector); UNSET inherits from the next wider level; none at all is PERMISSIVE. Of several policies at
 * one level the oldest applies (creation time, then name). DISABLE acts as PERMISSIVE: HBONE is mutual TLS
 * regardless, and plaintext from outside the mesh is accepted.
 */
export function translatePeerAuthentications(pas: readonly PeerAuthentication[], opts: TranslateOptions): PeerAuthTranslation {
  const notes: ResourceNote[] = [];
  const valid: Array<{ pa: PeerAuthentication; mode: MtlsMode }> = [];
  for (const pa of pas) {
    const ns = pa.metadata?.namespace ?? "";
    const name = pa.metadata?.name ?? "";
    const mode = (pa.spec?.mtls?.mode ?? "UNSET").toUpperCase();
    if (!["UNSET", "PERMISSIVE", "STRICT", "DISABLE"].includes(mode)) {
      notes.push({
        kind: "PeerAuthentication",
        namespace: ns,
        name,
        status: "Rejected",
        reason: `mtls.mode ${mode} is not one of UNSET, PERMISSIVE, STRICT, DISABLE`,
      });
      continue;
    }
    if (pa.spec?.portLevelMtls && Object.keys(pa.spec.portLevelMtls).length) {
      notes.push({
        kind: "PeerAuthentication",
        namespace: ns,
        name,
        status: "Partial",
        reason: "portLevelMtls is not supported in ambient mode and was ignored",
      });
    }
    if (mode === "DISABLE") {
      notes.push({
        kind: "PeerAuthentication",
        namespace: ns,
        name,
        status: "Partial",
        reason: "DISABLE acts as PERMISSIVE in ambient mode: HBONE is always mutual TLS, plaintext from outside the mesh is accepted",
      });
    }
    valid.push({ pa, mode: mode as MtlsMode });
  }
  const age = (x: { pa: PeerAuthentication }) =>
    `${x.pa.metadata?.creationTimestamp ? new Date(x.pa.metadata.creationTimestamp as unknown as string).toISOString() : ""}|${x.pa.metadata?.name ?? ""}`;
  valid.sort((a, b) => compareStrings(age(a), age(b)));
  const hasSelector = (pa: PeerAuthentication) => Object.keys(pa.spec?.selector?.matchLabels ?? {}).length > 0;
  const mesh = valid.find((x) => x.pa.metadata?.namespace === opts.rootNamespace && !hasSelector(x.pa));
  const namespaceWide = new Map<string, MtlsMode>();
  const selectorsByNs = new Map<string, Array<{ labels: Record<string, string>; mode: MtlsMode }>>();
  for (const x of valid) {
    const ns = x.pa.metadata?.namespace ?? "";
    if (!hasSelector(x.pa)) {
      if (!namespaceWide.has(ns)) namespaceWide.set(ns, x.mode);
      continue;
    }
    const list = selectorsByNs.get(ns) ?? [];
    list.push({ labels: x.pa.spec!.selector!.matchLabels!, mode: x.mode });
    selectorsByNs.set(ns, list);
  }
  const strictFor = (namespace: string, labels: Record<string, string> | undefined): boolean => {
    const workload = (selectorsByNs.get(namespace) ?? []).find((s) => Object.entries(s.labels).every(([k, v]) => labels?.[k] === v))?.mode;
    for (const mode of [workload, namespaceWide.get(namespace), mesh?.mode]) {
      if (mode && mode !== "UNSET") return mode === "STRICT";
    }
    return false;
  };
  return { anyStrict: valid.some((x) => x.mode === "STRICT"), strictFor, notes };
}
