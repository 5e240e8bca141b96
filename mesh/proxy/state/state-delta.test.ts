// ProxyState.applyDelta against the whole rebuild it replaces, as the oracle: random sequences of config
// changes (with IPs and VIPs claimed twice, workloads moving between services, routes changing parents),
// and after each one every lookup of the delta-derived state must answer as a state built from scratch.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compareStrings } from "../../shared/index.ts";
import { ProxyState, type ProxyDelta } from "./proxy-state.ts";
import { policyKey, serviceKey, type Authorization, type HttpRoute, type L7Policy, type Service, type Workload } from "./types.ts";

const IPS = ["10.0.0.1", "10.0.0.2", "10.0.0.3"];
const VIPS = ["10.96.0.1", "10.96.0.2"];
const HOSTS = ["h0", "h1", "h2"].map((h) => `${h}.a.svc.cluster.local`);
const SVC_KEYS = HOSTS.map((h) => `a/${h}`);
const POLICY_KEYS = ["a/p0", "a/p1", "istio-system/p2"];

const portMap = fc
  .dictionary(fc.constantFrom("80", "8080"), fc.constantFrom(0, 80, 9090), { maxKeys: 2 })
  .map((d) => new Map(Object.entries(d).map(([k, v]) => [Number(k), v])));

const workload: fc.Arbitrary<Workload> = fc
  .record({
    uid: fc.constantFrom("w0", "w1", "w2", "w3"),
    ips: fc.subarray(IPS, { maxLength: 2 }),
    services: fc.array(fc.tuple(fc.constantFrom(...SVC_KEYS), portMap), { maxLength: 2 }).map((l) => new Map(l)),
    status: fc.constantFrom("Healthy" as const, "Unhealthy" as const),
    namespace: fc.constantFrom("a", "b"),
    authorizationPolicies: fc.subarray(POLICY_KEYS),
  })
  .map((w) => ({
    ...w,
    name: w.uid,
    trustDomain: "cluster.local",
    serviceAccount: "sa",
    node: "node-1",
    protocol: "HBONE" as const,
    canonicalName: w.uid,
    canonicalRevision: "v1",
    workloadName: w.uid,
  }));

const service: fc.Arbitrary<Service> = fc.record({ hostname: fc.constantFrom(...HOSTS), vips: fc.subarray(VIPS), ports: portMap }).map((s) => ({
  ...s,
  name: s.hostname.split(".")[0]!,
  namespace: "a",
}));

const policy: fc.Arbitrary<Authorization> = fc
  .record({
    key: fc.constantFrom(...POLICY_KEYS),
    scope: fc.constantFrom("Global" as const, "Namespace" as const, "WorkloadSelector" as const),
    action: fc.constantFrom("Allow" as const, "Deny" as const),
  })
  .map(({ key, scope, action }) => ({ namespace: key.split("/")[0]!, name: key.split("/")[1]!, scope, action, rules: [] }) as unknown as Authorization);

const route: fc.Arbitrary<HttpRoute> = fc
  .record({ name: fc.constantFrom("r0", "r1"), parents: fc.subarray(SVC_KEYS, { maxLength: 2 }) })
  .map((r) => ({ ...r, namespace: "a", rules: [] }));
const l7: fc.Arbitrary<L7Policy> = fc
  .constantFrom("l0", "l1")
  .map((name) => ({ name, namespace: "a", action: "Allow" as const, dryRun: false, targets: [], rules: [] }));

const change = <T>(arb: fc.Arbitrary<T>, keys: readonly string[]) =>
  fc.record({ upsert: fc.array(arb, { maxLength: 3 }), remove: fc.subarray([...keys], { maxLength: 2 }) });
const delta: fc.Arbitrary<ProxyDelta> = fc.record(
  {
    workloads: change(workload, ["w0", "w1", "w2", "w3"]),
    services: change(service, SVC_KEYS),
    policies: change(policy, POLICY_KEYS),
    routes: change(route, ["a/r0", "a/r1"]),
    l7Policies: change(l7, ["a/l0", "a/l1"]),
  },
  { requiredKeys: [] },
);

/** The config a client holds: latest value per key (one upsert per key wins: the last). */
class Truth {
  w = new Map<string, Workload>();
  s = new Map<string, Service>();
  p = new Map<string, Authorization>();
  r = new Map<string, HttpRoute>();
  l = new Map<string, L7Policy>();

  apply(d: ProxyDelta): void {
    const step = <V>(m: Map<string, V>, c: { upsert: readonly V[]; remove: readonly string[] } | undefined, key: (v: V) => string) => {
      for (const k of c?.remove ?? []) m.delete(k);
      for (const v of c?.upsert ?? []) m.set(key(v), v);
    };
    step(this.w, d.workloads, (w) => w.uid);
    step(this.s, d.services, serviceKey);
    step(this.p, d.policies, policyKey);
    step(this.r, d.routes, policyKey);
    step(this.l, d.l7Policies, policyKey);
  }

  clone(): Truth {
    const t = new Truth();
    [t.w, t.s, t.p, t.r, t.l] = [new Map(this.w), new Map(this.s), new Map(this.p), new Map(this.r), new Map(this.l)];
    return t;
  }

  /** As the config stream client publishes a whole config: sorted. */
  build(): ProxyState {
    const sorted = <V>(m: Map<string, V>) => [...m.entries()].sort(([a], [b]) => compareStrings(a, b)).map(([, v]) => v);
    return new ProxyState({
      workloads: sorted(this.w),
      services: sorted(this.s),
      policies: sorted(this.p),
      routes: sorted(this.r),
      l7Policies: sorted(this.l),
    });
  }
}

/** Every question a proxy asks of its state, with the answers as plain values. */
function answers(st: ProxyState, t: Truth): unknown {
  const names = (l: readonly { namespace: string; name: string }[]) => l.map(policyKey);
  return {
    lists: [st.workloads.map((w) => w.uid), st.services.map(serviceKey), names(st.policies), names(st.routes), names(st.l7Policies)],
    byIp: IPS.map((ip) => st.workloadByIp(ip)),
    byVip: VIPS.map((ip) => st.serviceByVip(ip)),
    services: SVC_KEYS.map((k) => st.service(k)),
    endpoints: [...t.s.values()].flatMap((s) => [80, 8080].map((port) => st.endpoints(s, port).map((e) => [e.workload, e.targetPort]))),
    routes: SVC_KEYS.map((k) => st.routesFor(k)),
    policies: [...t.w.values()].map((w) => st.policiesFor(w)),
    servicesOf: [...t.w.values()].map((w) => st.servicesOf(w)),
    where: st.workloadsWhere((w) => w.status === "Healthy").map((w) => w.uid),
    byUid: [...t.w.keys()].map((uid) => st.workload(uid)),
  };
}

describe("ProxyState deltas", () => {
  it("answer every lookup as a whole rebuild does, after each of a random sequence of changes", () => {
    fc.assert(
      fc.property(delta, fc.array(delta, { minLength: 1, maxLength: 12 }), (first, rest) => {
        const truth = new Truth();
        // Deltas from one response carry each key at most once; a later upsert of the same key wins in both.
        truth.apply(first);
        let state = truth.build();
        for (const d of rest) {
          const before = state;
          const beforeTruth = truth.clone();
          const beforeAnswers = answers(before, beforeTruth);
          truth.apply(d);
          state = state.applyDelta(dedupe(d));
          expect(answers(state, truth)).toEqual(answers(truth.build(), truth));
          // The previous version is untouched: connections still hold it.
          expect(answers(before, beforeTruth)).toEqual(beforeAnswers);
        }
      }),
      { numRuns: 400, seed: 20261130 },
    );
  });

  it("give an IP or VIP claimed twice to the last claimant in order, and back to the other when it goes", () => {
    const t = new Truth();
    const w = (uid: string) => ({ ...fc.sample(workload, { numRuns: 1, seed: 1 })[0]!, uid, ips: ["10.0.0.1"] });
    const s = (hostname: string) => ({ ...fc.sample(service, { numRuns: 1, seed: 1 })[0]!, hostname, vips: ["10.96.0.1"] });
    t.apply({ workloads: { upsert: [w("w0"), w("w1")], remove: [] }, services: { upsert: [s(HOSTS[0]!), s(HOSTS[1]!)], remove: [] } });
    const built = t.build();
    expect(built.workloadByIp("10.0.0.1")?.uid).toBe("w1");
    expect(built.serviceByVip("10.96.0.1")?.hostname).toBe(HOSTS[1]);
    const after = built.applyDelta({ workloads: { upsert: [], remove: ["w1"] }, services: { upsert: [], remove: [`a/${HOSTS[1]}`] } });
    expect(after.workloadByIp("10.0.0.1")?.uid).toBe("w0");
    expect(after.serviceByVip("10.96.0.1")?.hostname).toBe(HOSTS[0]);
    const again = after.applyDelta({ workloads: { upsert: [w("w2")], remove: [] } });
    expect(again.workloadByIp("10.0.0.1")?.uid).toBe("w2");
  });
});

/** One value per key, the last, as a config stream response carries them. */
function dedupe(d: ProxyDelta): ProxyDelta {
  const last = <V>(c: { upsert: readonly V[]; remove: readonly string[] } | undefined, key: (v: V) => string) => {
    if (!c) return undefined;
    const m = new Map<string, V>();
    for (const v of c.upsert) m.set(key(v), v);
    // A key both removed and upserted in one response is upserted (the server sends one or the other).
    return { upsert: [...m.values()], remove: c.remove.filter((k) => !m.has(k)) };
  };
  const out: ProxyDelta = {};
  const w = last(d.workloads, (x) => x.uid);
  const s = last(d.services, serviceKey);
  const p = last(d.policies, policyKey);
  const r = last(d.routes, policyKey);
  const l = last(d.l7Policies, policyKey);
  if (w) out.workloads = w;
  if (s) out.services = s;
  if (p) out.policies = p;
  if (r) out.routes = r;
  if (l) out.l7Policies = l;
  return out;
}
