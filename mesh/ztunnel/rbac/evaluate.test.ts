import { describe, expect, it } from "vitest";
import { emptyMatch, parseStringMatch } from "../../api/index.ts";
import type { Authorization, Match } from "../../api/index.ts";
import { evaluate, type ConnectionFacts } from "./evaluate.ts";

const sleep = { trustDomain: "cluster.local", namespace: "demo", serviceAccount: "sleep" };
const other = { trustDomain: "cluster.local", namespace: "other", serviceAccount: "client" };

/** A Match from Istio's string convention ("*", "x*", "*x") for the string fields; the rest as given. */
type MatchSpec = Partial<Record<"namespaces" | "notNamespaces" | "principals" | "notPrincipals", string[]>> &
  Partial<Pick<Match, "sourceIps" | "notSourceIps" | "destinationIps" | "notDestinationIps" | "destinationPorts" | "notDestinationPorts">>;
function match(spec: MatchSpec): Match {
  const { namespaces, notNamespaces, principals, notPrincipals, ...rest } = spec;
  const strings = (l: string[] | undefined) => (l ?? []).map(parseStringMatch);
  return emptyMatch({
    ...rest,
    namespaces: strings(namespaces),
    notNamespaces: strings(notNamespaces),
    principals: strings(principals),
    notPrincipals: strings(notPrincipals),
  });
}

// Built directly in the wire types ztunnel evaluates, not through a config parser.
function policy(action: "Allow" | "Deny", spec: MatchSpec, extra: Partial<Authorization> = {}): Authorization {
  return { name: `p-${action}`, namespace: "demo", scope: "Namespace", action, rules: [{ clauses: [{ matches: [match(spec)] }] }], dryRun: false, ...extra };
}

const conn = (over: Partial<ConnectionFacts> = {}): ConnectionFacts => ({
  srcIdentity: sleep,
  srcIp: "198.18.1.10",
  dstIp: "198.18.2.10",
  dstPort: 8080,
  ...over,
});

describe("evaluate", () => {
  const cases: Array<{ name: string; policies: Authorization[]; conn: ConnectionFacts; allowed: boolean }> = [
    { name: "no policy allows", policies: [], conn: conn(), allowed: true },
    { name: "non-matching DENY and no ALLOW allows", policies: [policy("Deny", { namespaces: ["x"] })], conn: conn(), allowed: true },
    { name: "matching DENY denies", policies: [policy("Deny", { principals: ["cluster.local/ns/demo/sa/sleep"] })], conn: conn(), allowed: false },
    { name: "DENY wins over a matching ALLOW", policies: [policy("Allow", {}), policy("Deny", { namespaces: ["demo"] })], conn: conn(), allowed: false },
    { name: "ALLOW must match when one exists", policies: [policy("Allow", { namespaces: ["other"] })], conn: conn(), allowed: false },
    { name: "matching ALLOW allows", policies: [policy("Allow", { namespaces: ["demo"] })], conn: conn(), allowed: true },
    { name: "principal prefix", policies: [policy("Allow", { principals: ["cluster.local/ns/demo/*"] })], conn: conn(), allowed: true },
    { name: "principal suffix", policies: [policy("Allow", { principals: ["*/sa/sleep"] })], conn: conn({ srcIdentity: other }), allowed: false },
    {
      name: "principal presence needs an identity",
      policies: [policy("Allow", { principals: ["*"] })],
      conn: conn({ srcIdentity: undefined }),
      allowed: false,
    },
    { name: "notPrincipals excludes", policies: [policy("Allow", { notPrincipals: ["cluster.local/ns/demo/sa/sleep"] })], conn: conn(), allowed: false },
    {
      name: "STRICT as DENY notPrincipals * denies plaintext",
      policies: [policy("Deny", { notPrincipals: ["*"] })],
      conn: conn({ srcIdentity: undefined }),
      allowed: false,
    },
    { name: "STRICT as DENY notPrincipals * keeps mTLS", policies: [policy("Deny", { notPrincipals: ["*"] })], conn: conn(), allowed: true },
    { name: "ipBlocks", policies: [policy("Allow", { sourceIps: ["198.18.1.0/24"] })], conn: conn(), allowed: true },
    { name: "ipBlocks miss", policies: [policy("Allow", { sourceIps: ["198.18.9.0/24"] })], conn: conn(), allowed: false },
    { name: "notIpBlocks", policies: [policy("Deny", { notSourceIps: ["198.18.1.10"] })], conn: conn(), allowed: true },
    { name: "ports", policies: [policy("Allow", { destinationPorts: [8080] })], conn: conn(), allowed: true },
    { name: "notPorts", policies: [policy("Deny", { notDestinationPorts: [8080] })], conn: conn({ dstPort: 9090 }), allowed: false },
    { name: "fields are AND-ed", policies: [policy("Allow", { namespaces: ["demo"], destinationPorts: [9090] })], conn: conn(), allowed: false },
    { name: "values are OR-ed", policies: [policy("Allow", { namespaces: ["x", "demo"] })], conn: conn(), allowed: true },
    { name: "dry-run policies do not enforce", policies: [policy("Deny", {}, { dryRun: true })], conn: conn(), allowed: true },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(evaluate(c.policies, c.conn).allowed).toBe(c.allowed);
    });
  }

  it("a policy with no rules matches nothing", () => {
    const p: Authorization = { name: "empty", namespace: "demo", scope: "Namespace", action: "Allow", rules: [], dryRun: false };
    expect(evaluate([p], conn())).toEqual({ allowed: false, reason: "not-allowed" });
  });

  it("clauses are AND-ed, matches inside a clause OR-ed", () => {
    const and: Authorization = {
      name: "and",
      namespace: "demo",
      scope: "Namespace",
      action: "Allow",
      rules: [{ clauses: [{ matches: [match({ namespaces: ["x"] }), match({ namespaces: ["demo"] })] }, { matches: [match({ destinationPorts: [80] })] }] }],
      dryRun: false,
    };
    expect(evaluate([and], conn()).allowed).toBe(false);
    expect(evaluate([and], conn({ dstPort: 80 })).allowed).toBe(true);
  });

  it("names the deciding policy", () => {
    expect(evaluate([policy("Deny", {})], conn())).toEqual({ allowed: false, reason: "denied", policy: "demo/p-Deny" });
  });
});
