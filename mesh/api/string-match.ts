// Istio's string-match semantics, shared by every side of the contract: the control plane parses policy
// values into StringMatch, ztunnel and the waypoint evaluate them.
import type { Match, StringMatch } from "./types.ts";

/** Istio's YAML convention: "*" is presence, "*x" a suffix, "x*" a prefix, anything else exact. */
export function parseStringMatch(s: string): StringMatch {
  if (s === "*") return { kind: "presence" };
  if (s.startsWith("*")) return { kind: "suffix", value: s.slice(1) };
  if (s.endsWith("*")) return { kind: "prefix", value: s.slice(0, -1) };
  return { kind: "exact", value: s };
}

/** Whether `value` matches; an absent value never does (presence means "present and non-empty"). */
export function matchString(m: StringMatch, value: string | undefined): boolean {
  if (value === undefined) return false;
  switch (m.kind) {
    case "presence":
      return value.length > 0;
    case "exact":
      return value === m.value;
    case "prefix":
      return value.startsWith(m.value);
    case "suffix":
      return value.endsWith(m.value);
  }
}

/** A Match with no constraint in any field (matches every connection). */
export function emptyMatch(over: Partial<Match> = {}): Match {
  return {
    namespaces: [],
    notNamespaces: [],
    principals: [],
    notPrincipals: [],
    sourceIps: [],
    notSourceIps: [],
    destinationIps: [],
    notDestinationIps: [],
    destinationPorts: [],
    notDestinationPorts: [],
    ...over,
  };
}
