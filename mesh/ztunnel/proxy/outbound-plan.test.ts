import { describe, expect, it } from "vitest";
import { parseLocalConfig } from "../../proxy/index.ts";
import { ProxyState } from "../../proxy/index.ts";
import { planOutbound, type OutboundPlan } from "./outbound-plan.ts";

const state = new ProxyState(
  parseLocalConfig(`
workloads:
  - { uid: a, name: client, namespace: demo, workloadIps: [198.18.1.10], serviceAccount: client, node: n1 }
  - uid: b1
    name: web-1
    namespace: demo
    workloadIps: [198.18.2.10]
    serviceAccount: web
    node: n2
    services: { "demo/web.demo.svc.cluster.local": { 80: 8080 } }
  - uid: b2
    name: web-2
    namespace: demo
    workloadIps: [198.18.2.11]
    serviceAccount: web
    node: n2
    status: Unhealthy
    services: { "demo/web.demo.svc.cluster.local": { 80: 8080 } }
  - uid: c
    name: legacy
    namespace: old
    workloadIps: [198.18.2.20]
    node: n2
    protocol: NONE
    services: { "old/legacy.old.svc.cluster.local": { 80: 0 } }
services:
  - { name: web, namespace: demo, hostname: web.demo.svc.cluster.local, vips: [198.19.0.10], ports: { 80: 8080 } }
  - { name: legacy, namespace: old, hostname: legacy.old.svc.cluster.local, vips: [198.19.0.11], ports: { 80: 0 } }
  - { name: empty, namespace: demo, hostname: empty.demo.svc.cluster.local, vips: [198.19.0.12], ports: { 80: 8080 } }
`),
);

const source = state.workloadByIp("198.18.1.10");

function plan(ip: string, port: number, src: "known" | "unknown" = "known"): OutboundPlan {
  return planOutbound({
    state,
    source: src === "known" ? source : undefined,
    dst: { ip, port },
    illegalPorts: new Set([15001, 15006, 15008]),
    hboneTarget: (p) => ({ ip: p, port: 15008 }),
    pick: () => 0,
  });
}

describe("planOutbound", () => {
  const cases: Array<{ name: string; ip: string; port: number; want: Record<string, unknown> }> = [
    {
      name: "pod IP of a mesh workload: HBONE to its 15008",
      ip: "198.18.2.10",
      port: 8080,
      want: { kind: "hbone", target: { ip: "198.18.2.10", port: 15008 }, authority: { ip: "198.18.2.10", port: 8080 } },
    },
    {
      name: "service VIP: a healthy endpoint, service port mapped",
      ip: "198.19.0.10",
      port: 80,
      want: { kind: "hbone", authority: { ip: "198.18.2.10", port: 8080 } },
    },
    {
      name: "service VIP of a non-mesh workload: plain TCP, target 0 keeps the port",
      ip: "198.19.0.11",
      port: 80,
      want: { kind: "direct", target: { ip: "198.18.2.20", port: 80 } },
    },
    { name: "pod IP of a non-mesh workload: plain TCP", ip: "198.18.2.20", port: 9000, want: { kind: "direct", target: { ip: "198.18.2.20", port: 9000 } } },
    { name: "unknown destination: passthrough", ip: "198.18.9.9", port: 443, want: { kind: "passthrough", target: { ip: "198.18.9.9", port: 443 } } },
    { name: "service without endpoints: refused", ip: "198.19.0.12", port: 80, want: { kind: "refuse", reason: "no-healthy-upstream" } },
    { name: "service port not defined: refused", ip: "198.19.0.10", port: 81, want: { kind: "refuse", reason: "no-healthy-upstream" } },
    { name: "ztunnel's own ports: refused", ip: "198.18.2.10", port: 15008, want: { kind: "refuse", reason: "self-call" } },
  ];
  for (const c of cases) {
    it(c.name, () => expect(plan(c.ip, c.port)).toMatchObject(c.want));
  }

  it("refuses when the source workload is unknown (no identity to use)", () => {
    expect(plan("198.18.2.10", 8080, "unknown")).toMatchObject({ kind: "refuse", reason: "unknown-source" });
  });

  it("carries the destination identity and service for HBONE", () => {
    const p = plan("198.19.0.10", 80);
    expect(p.kind === "hbone" && p.identity).toEqual({ trustDomain: "cluster.local", namespace: "demo", serviceAccount: "web" });
    expect(p.kind === "hbone" && p.service?.name).toBe("web");
  });
});

describe("planOutbound with a waypoint (istio.io/use-waypoint)", () => {
  const wpState = new ProxyState(
    parseLocalConfig(`
workloads:
  - { uid: a, name: client, namespace: demo, workloadIps: [198.18.1.10], serviceAccount: client, node: n1 }
  - uid: b
    name: web-1
    namespace: demo
    workloadIps: [198.18.2.10]
    serviceAccount: web
    node: n2
    services: { "demo/web.demo.svc.cluster.local": { 80: 8080 } }
    waypoint: { hostname: waypoint.demo.svc.cluster.local, namespace: demo }
  - uid: w
    name: waypoint-1
    namespace: demo
    workloadIps: [198.18.3.10]
    serviceAccount: waypoint
    node: n2
    services: { "demo/waypoint.demo.svc.cluster.local": { 15008: 15008 } }
  - uid: o
    name: orphan-1
    namespace: demo
    workloadIps: [198.18.2.30]
    node: n2
    services: { "demo/orphan.demo.svc.cluster.local": { 80: 8080 } }
services:
  - { name: web, namespace: demo, hostname: web.demo.svc.cluster.local, vips: [198.19.0.10], ports: { 80: 8080 }, waypoint: { hostname: waypoint.demo.svc.cluster.local, namespace: demo } }
  - { name: waypoint, namespace: demo, hostname: waypoint.demo.svc.cluster.local, vips: [198.19.0.20], ports: { 15008: 15008 } }
  - { name: orphan, namespace: demo, hostname: orphan.demo.svc.cluster.local, vips: [198.19.0.30], ports: { 80: 8080 }, waypoint: { hostname: gone.demo.svc.cluster.local, namespace: demo } }
`),
  );
  const planFrom = (srcIp: string, ip: string, port: number) =>
    planOutbound({
      state: wpState,
      source: wpState.workloadByIp(srcIp),
      dst: { ip, port },
      illegalPorts: new Set([15001, 15006, 15008]),
      hboneTarget: (p) => ({ ip: p, port: 15008 }),
      pick: () => 0,
    });

  it("sends traffic for the service VIP to the waypoint pod, keeping the VIP as :authority", () => {
    expect(planFrom("198.18.1.10", "198.19.0.10", 80)).toMatchObject({
      kind: "hbone",
      viaWaypoint: true,
      target: { ip: "198.18.3.10", port: 15008 },
      authority: { ip: "198.19.0.10", port: 80 },
      identity: { namespace: "demo", serviceAccount: "waypoint" },
      service: { name: "web" },
    });
  });

  it("sends traffic for a bound workload's pod IP to the waypoint too", () => {
    expect(planFrom("198.18.1.10", "198.18.2.10", 8080)).toMatchObject({ kind: "hbone", viaWaypoint: true, authority: { ip: "198.18.2.10", port: 8080 } });
  });

  it("the waypoint's own traffic goes straight to the endpoint (no loop)", () => {
    expect(planFrom("198.18.3.10", "198.19.0.10", 80)).toMatchObject({
      kind: "hbone",
      target: { ip: "198.18.2.10", port: 15008 },
      authority: { ip: "198.18.2.10", port: 8080 },
    });
    expect(planFrom("198.18.3.10", "198.19.0.10", 80)).not.toHaveProperty("viaWaypoint");
  });

  it("a waypoint with no endpoints refuses with what is missing", () => {
    expect(planFrom("198.18.1.10", "198.19.0.30", 80)).toMatchObject({
      kind: "refuse",
      reason: "no-healthy-upstream",
      message: expect.stringContaining("waypoint demo/gone.demo.svc.cluster.local"),
    });
  });
});
