import { describe, expect, it } from "vitest";
import { parseLocalConfig } from "./local-config.ts";
import { ProxyState } from "./proxy-state.ts";

const good = `
workloads:
  - uid: c//Pod/demo/httpbin
    name: httpbin
    namespace: demo
    workloadIps: [198.18.2.10]
    serviceAccount: httpbin
    node: node-2
    services: { "demo/httpbin.demo.svc.cluster.local": { 8000: 8080 } }
  - uid: c//Pod/demo/sleep
    name: sleep
    namespace: demo
    workloadIps: [198.18.1.10]
    serviceAccount: sleep
    node: node-1
    authorizationPolicies: [demo/sel]
services:
  - name: httpbin
    namespace: demo
    hostname: httpbin.demo.svc.cluster.local
    vips: [198.19.0.10]
    ports: { 8000: 8080 }
policies:
  - { name: ns, namespace: demo, scope: Namespace, action: Deny, rules: [] }
  - { name: global, namespace: istio-system, scope: Global, action: Deny, rules: [] }
  - { name: sel, namespace: demo, scope: WorkloadSelector, action: Allow, rules: [] }
  - { name: elsewhere, namespace: other, scope: Namespace, action: Deny, rules: [] }
`;

describe("parseLocalConfig", () => {
  it("converts every resource and indexes them", () => {
    const cfg = parseLocalConfig(good);
    expect(cfg.rejected).toEqual([]);
    const state = new ProxyState(cfg);
    expect(state.workloadByIp("198.18.2.10")?.name).toBe("httpbin");
    expect(state.workloadByIp("::ffff:198.18.2.10")?.name).toBe("httpbin");
    const svc = state.serviceByVip("198.19.0.10")!;
    expect(svc.name).toBe("httpbin");
    expect(state.endpoints(svc, 8000).map((e) => [e.workload.name, e.targetPort])).toEqual([["httpbin", 8080]]);
    expect(state.endpoints(svc, 9999)).toEqual([]);
    const sleep = state.workloadByIp("198.18.1.10")!;
    expect(
      state
        .policiesFor(sleep)
        .map((p) => p.name)
        .sort(),
    ).toEqual(["global", "ns", "sel"]);
    expect(sleep.trustDomain).toBe("cluster.local");
    expect(sleep.protocol).toBe("HBONE");
  });

  it("rejects a bad resource on its own, naming it and every problem, and keeps the rest", () => {
    const cfg = parseLocalConfig(`
workloads:
  - { uid: a, name: ok, namespace: demo, workloadIps: [198.18.1.2], node: n1 }
  - { uid: b, name: bad, namespace: demo, workloadIps: [not-an-ip], node: n1, protocol: QUIC }
  - { uid: c, name: dup, namespace: demo, workloadIps: [198.18.1.2], node: n1 }
services:
  - { name: s, namespace: demo, hostname: s.demo, vips: [198.18.1.2] }
policies:
  - { name: p, namespace: demo, scope: Namespace, action: Maybe }
  - { name: q, namespace: demo, scope: Namespace, action: Allow, rules: [{ clauses: [{ matches: [{ sourceIps: [300.1.1.1/8] }] }] }] }
`);
    expect(cfg.workloads.map((w) => w.name)).toEqual(["ok"]);
    expect(cfg.rejected).toHaveLength(5);
    const bad = cfg.rejected.find((r) => r.name === "demo/bad")!;
    expect(bad.reason).toContain("workloadIps.0: must be an IP address");
    expect(bad.reason).toContain("protocol");
    expect(cfg.rejected.find((r) => r.name === "demo/dup")!.reason).toContain("198.18.1.2 is already used by demo/ok");
    expect(cfg.rejected.find((r) => r.kind === "service")!.reason).toContain("VIP 198.18.1.2");
    expect(cfg.rejected.find((r) => r.name === "demo/p")!.reason).toContain("action");
    expect(cfg.rejected.find((r) => r.name === "demo/q")!.reason).toContain("CIDR");
  });

  it("refuses a file that is not YAML or not a mapping, with the reason", () => {
    expect(() => parseLocalConfig("workloads: [")).toThrow(/not valid YAML/);
    expect(() => parseLocalConfig("- a\n- b")).toThrow(/must be a mapping/);
    expect(() => parseLocalConfig("workload: []")).toThrow(/unknown top-level keys: workload/);
    expect(parseLocalConfig("").workloads).toEqual([]);
  });
});
