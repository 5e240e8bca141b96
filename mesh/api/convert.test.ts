import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { parseLocalConfig } from "../proxy/index.ts";
import { addressFromProto, authorizationFromProto, authorizationToProto, serviceToProto, workloadToProto } from "./convert.ts";
import { AuthorizationSchema } from "./gen/ambientlab/v1/authorization_pb.js";
import { AddressSchema } from "./gen/ambientlab/v1/workload_pb.js";

const cfg = parseLocalConfig(`
workloads:
  - uid: K//Pod/demo/web
    name: web
    namespace: demo
    workloadIps: [198.18.2.10]
    serviceAccount: web
    node: node-2
    protocol: HBONE
    status: Unhealthy
    services: { "demo/web.demo.svc.cluster.local": { 80: 8080, 443: 0 } }
    authorizationPolicies: [demo/sel]
services:
  - { name: web, namespace: demo, hostname: web.demo.svc.cluster.local, vips: [198.19.0.10], ports: { 80: 8080 } }
  - { name: rpc, namespace: demo, hostname: rpc.demo.svc.cluster.local, vips: [198.19.0.11], ports: { 80: 8080, 81: 0, 82: 0, 83: 0 }, appProtocols: { 80: grpc, 81: http2, 82: http } }
policies:
  - name: p
    namespace: demo
    scope: WorkloadSelector
    action: Deny
    dryRun: true
    rules:
      - clauses:
          - matches: [{ principals: ["*", "a*", "*b", "c"], notNamespaces: [x], sourceIps: [198.18.0.0/16], destinationPorts: [80] }]
          - matches: [{ notDestinationPorts: [22], notSourceIps: [198.18.1.1], destinationIps: [198.18.2.10], notPrincipals: ["*"] }]
`);

describe("wire conversion", () => {
  it("round-trips workloads, services and policies through binary protobuf", () => {
    const w = cfg.workloads[0]!;
    const wBack = addressFromProto(fromBinary(AddressSchema, toBinary(AddressSchema, workloadToProto(w))));
    expect(wBack).toEqual({ workload: w });
    for (const s of cfg.services) {
      expect(addressFromProto(fromBinary(AddressSchema, toBinary(AddressSchema, serviceToProto(s))))).toEqual({ service: s });
    }
    expect(cfg.services[1]!.appProtocols).toEqual(
      new Map([
        [80, "grpc"],
        [81, "http2"],
        [82, "http"],
      ]),
    );
    expect(cfg.services[0]!.appProtocols).toBeUndefined();
    const p = cfg.policies[0]!;
    expect(authorizationFromProto(fromBinary(AuthorizationSchema, toBinary(AuthorizationSchema, authorizationToProto(p))))).toEqual(p);
  });

  it("refuses a port that declares an application protocol it does not know", () => {
    const value = {
      name: "s",
      namespace: "demo",
      hostname: "s.demo",
      vips: [],
      waypoint: undefined,
      ports: [{ servicePort: 80, targetPort: 0, appProtocol: 9 }],
    };
    expect(() => addressFromProto({ type: { case: "service", value } })).toThrow(/port 80 declares an unknown application protocol \(9\)/);
  });

  it("orders a service's ports by number, the last of a repeated port winning, whatever order they come in", () => {
    const s = { name: "s", namespace: "demo", hostname: "s.demo", vips: [], waypoint: undefined };
    const ports = (list: Array<[number, number]>) => {
      const r = addressFromProto({
        type: { case: "service", value: { ...s, ports: list.map(([servicePort, targetPort]) => ({ servicePort, targetPort, appProtocol: 0 })) } },
      });
      return "service" in r ? [...r.service.ports] : [];
    };
    expect(
      ports([
        [443, 0],
        [80, 8080],
        [80, 9090],
      ]),
    ).toEqual([
      [80, 9090],
      [443, 0],
    ]);
    expect(
      ports([
        [80, 1],
        [443, 2],
      ]),
    ).toEqual([
      [80, 1],
      [443, 2],
    ]);
    expect(
      ports([
        [80, 1],
        [80, 2],
      ]),
    ).toEqual([[80, 2]]);
  });

  it("rejects invalid resources with the field named", () => {
    const w = workloadToProto({ ...cfg.workloads[0]!, ips: ["not-ip"] });
    expect(() => addressFromProto(w)).toThrow(/addresses: "not-ip" is not an IP address/);
    const p = authorizationToProto({
      ...cfg.policies[0]!,
      rules: [{ clauses: [{ matches: [{ ...cfg.policies[0]!.rules[0]!.clauses[0]!.matches[0]!, sourceIps: ["1.2.3.4/99"] }] }] }],
    });
    expect(() => authorizationFromProto(p)).toThrow(/sourceIps: "1.2.3.4\/99"/);
  });
});
