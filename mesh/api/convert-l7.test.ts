import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { translate } from "../control-plane/index.ts";
import { snapshotFromYaml as snapshotFrom } from "../control-plane/index.ts";
import { httpRouteFromProto, httpRouteToProto, l7PolicyFromProto, l7PolicyToProto } from "./convert-l7.ts";
import { HttpRouteSchema, L7PolicySchema } from "./gen/ambientlab/v1/waypoint_pb.js";

const t = translate(snapshotFrom(readFileSync(join(import.meta.dirname, "../control-plane/translate/testdata/waypoint.in.yaml"), "utf8")));

describe("waypoint resources on the wire", () => {
  it("routes and L7 policies survive encode -> bytes -> decode unchanged", () => {
    expect(t.routes.length).toBeGreaterThan(0);
    expect(t.l7Policies.length).toBeGreaterThan(1);
    for (const r of t.routes) expect(httpRouteFromProto(fromBinary(HttpRouteSchema, toBinary(HttpRouteSchema, httpRouteToProto(r))))).toEqual(r);
    for (const p of t.l7Policies) expect(l7PolicyFromProto(fromBinary(L7PolicySchema, toBinary(L7PolicySchema, l7PolicyToProto(p))))).toEqual(p);
  });

  it("rejects malformed resources with what is wrong", () => {
    expect(() => httpRouteFromProto(create(HttpRouteSchema, { name: "r", namespace: "n" }))).toThrow(/no parent service/);
    expect(() =>
      httpRouteFromProto(create(HttpRouteSchema, { name: "r", namespace: "n", parents: ["n/s"], rules: [{ backends: [{ service: "s", port: 80 }] }] })),
    ).toThrow(/not namespace\/hostname/);
    expect(() =>
      httpRouteFromProto(create(HttpRouteSchema, { name: "r", namespace: "n", parents: ["n/s"], rules: [{ matches: [{ path: { value: "x" } }] }] })),
    ).toThrow(/must start with \//);
    expect(() => l7PolicyFromProto(create(L7PolicySchema, { name: "p", namespace: "n" }))).toThrow(/no target/);
    expect(() =>
      l7PolicyFromProto(create(L7PolicySchema, { name: "p", namespace: "n", targets: [{ name: "w", namespace: "n" }], rules: [{ to: [{ ports: [70000] }] }] })),
    ).toThrow(/outside 1..65535/);
  });

  it("rejects filters and timeouts the Gateway API does not allow, by name", () => {
    const route = (rule: Record<string, unknown>) => () =>
      httpRouteFromProto(create(HttpRouteSchema, { name: "r", namespace: "n", parents: ["n/s"], rules: [rule as never] }));
    const backends = [{ service: "n/s", port: 80, weight: 1 }];
    expect(route({ backends, redirect: { statusCode: 302 } })).toThrow(/takes no backends/);
    expect(route({ redirect: { statusCode: 400 } })).toThrow(/not 301, 302, 303, 307 or 308/);
    expect(route({ redirect: { statusCode: 302, scheme: "ftp" } })).toThrow(/not http or https/);
    expect(route({ backends, responseHeaders: { set: { "x-a": "b\r\nx-injected: 1" } } })).toThrow(/CR, LF or NUL/);
    expect(route({ backends, requestHeaders: { set: { "X-Upper": "v" } } })).toThrow(/not a lower-case header name/);
    expect(route({ backends, rewrite: { path: { type: 1, value: "/x" } } })).toThrow(/ReplacePrefixMatch needs every match/);
    expect(route({ backends, rewrite: { hostname: "a b" } })).toThrow(/not a hostname/);
    expect(route({ backends, requestTimeoutMs: 100, backendRequestTimeoutMs: 200 })).toThrow(/exceeds the request timeout/);
    expect(route({ backends, retry: { attempts: 11 } })).toThrow(/retry.attempts 11 is above 10/);
    expect(route({ backends, retry: { attempts: 1, codes: [200] } })).toThrow(/200 is not an HTTP status in 400..599/);
    expect(route({ backends, retry: { attempts: 1, backoffMs: 600_000 } })).toThrow(/backoffMs 600000 is above/);
    const mirror = { service: "n/m", port: 80, partsPerMillion: 1_000_000 };
    expect(route({ backends, mirrors: [mirror, mirror, mirror, mirror, mirror] })).toThrow(/5 mirrors, at most 4/);
    expect(route({ backends, mirrors: [{ ...mirror, partsPerMillion: 1_000_001 }] })).toThrow(/above 1000000/);
    expect(route({ backends, mirrors: [{ ...mirror, service: "m" }] })).toThrow(/not namespace\/hostname/);
  });

  it("the golden routes carry retries and mirrors", () => {
    const resilient = t.routes.find((r) => r.name === "resilient");
    expect(resilient?.rules[0]).toMatchObject({
      retry: { attempts: 2, codes: [502, 503], backoffMs: 100 },
      timeouts: { requestMs: 10_000, backendRequestMs: 1000 },
    });
    expect(resilient?.rules[0]?.mirrors?.map((m) => m.partsPerMillion)).toEqual([1_000_000, 250_000, 333_333]);
  });
});
