// The encoded response is a DeltaDiscoveryResponse on the wire: what the control plane writes with
// resources encoded once, proxies read with the ordinary schema.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { anyPack, anyUnpack } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { DELTA_AGGREGATED_RESOURCES_ENCODED, encodeResource, joinResources, responseChunks, withJoinedResources } from "./ads-encoded.ts";
import { TYPE_AUTHORIZATION } from "./convert.ts";
import { AuthorizationSchema } from "./gen/ambientlab/v1/authorization_pb.js";
import { AggregatedDiscoveryService, DeltaDiscoveryResponseEncodedSchema, DeltaDiscoveryResponseSchema } from "./gen/ambientlab/v1/discovery_pb.js";

describe("encoded config responses", () => {
  it("read back as a DeltaDiscoveryResponse, byte for byte what encoding the resources per response gives", () => {
    const policies = ["a", "b"].map((name) => create(AuthorizationSchema, { name, namespace: "demo", dryRun: name === "b" }));
    const fields = { systemVersionInfo: "7", typeUrl: TYPE_AUTHORIZATION, removedResources: ["demo/gone"], nonce: "1f" };
    const encoded = toBinary(
      DeltaDiscoveryResponseEncodedSchema,
      create(DeltaDiscoveryResponseEncodedSchema, {
        ...fields,
        resources: policies.map((p) => encodeResource(`demo/${p.name}`, `v-${p.name}`, TYPE_AUTHORIZATION, toBinary(AuthorizationSchema, p))),
      }),
    );
    const plain = create(DeltaDiscoveryResponseSchema, {
      ...fields,
      resources: policies.map((p) => ({ name: `demo/${p.name}`, version: `v-${p.name}`, resource: anyPack(AuthorizationSchema, p) })),
    });
    expect(encoded).toEqual(toBinary(DeltaDiscoveryResponseSchema, plain));
    const back = fromBinary(DeltaDiscoveryResponseSchema, encoded);
    expect(back.resources.map((r) => [r.name, r.version, anyUnpack(r.resource!, AuthorizationSchema)?.dryRun])).toEqual([
      ["demo/a", "v-a", false],
      ["demo/b", "v-b", true],
    ]);
  });

  it("carries joined resources as the repeated field, in order, and none when there are none", () => {
    const encoded = ["a", "b", "c"].map((n) =>
      encodeResource(`demo/${n}`, `v-${n}`, TYPE_AUTHORIZATION, toBinary(AuthorizationSchema, create(AuthorizationSchema, { name: n }))),
    );
    const fields = { systemVersionInfo: "3", typeUrl: TYPE_AUTHORIZATION, removedResources: ["demo/old"], nonce: "9" };
    const joined = toBinary(
      DeltaDiscoveryResponseEncodedSchema,
      withJoinedResources(create(DeltaDiscoveryResponseEncodedSchema, fields), joinResources(encoded)),
    );
    const listed = toBinary(DeltaDiscoveryResponseEncodedSchema, create(DeltaDiscoveryResponseEncodedSchema, { ...fields, resources: encoded }));
    expect(fromBinary(DeltaDiscoveryResponseSchema, joined)).toEqual(fromBinary(DeltaDiscoveryResponseSchema, listed));
    expect(fromBinary(DeltaDiscoveryResponseSchema, joined).resources.map((r) => r.name)).toEqual(["demo/a", "demo/b", "demo/c"]);
    const none = toBinary(DeltaDiscoveryResponseEncodedSchema, withJoinedResources(create(DeltaDiscoveryResponseEncodedSchema, fields), joinResources([])));
    expect(fromBinary(DeltaDiscoveryResponseSchema, none).resources).toEqual([]);
    expect(() => withJoinedResources(create(DeltaDiscoveryResponseEncodedSchema, { resources: encoded }), joinResources(encoded))).toThrow(/already lists/);
  });

  it("joins resources of every length prefix size and they read back as the same list", () => {
    // Lengths around the varint boundaries: one, two and three bytes of length.
    const encoded = [0, 1, 127, 128, 300, 16383, 16384, 70000].map((n) => new Uint8Array(n).fill(n & 0xff));
    const fields = { typeUrl: TYPE_AUTHORIZATION, nonce: "1" };
    const joined = toBinary(
      DeltaDiscoveryResponseEncodedSchema,
      withJoinedResources(create(DeltaDiscoveryResponseEncodedSchema, fields), joinResources(encoded)),
    );
    // The joined bytes ride after the message's own fields, so the two differ in order, not in what they read as.
    expect(fromBinary(DeltaDiscoveryResponseEncodedSchema, joined).resources).toEqual(encoded);
  });

  it("splits into pieces that join to toBinary's bytes, the joined resources handed on as they are", () => {
    const resources = Array.from({ length: 300 }, (_, i) => encodeResource(`demo/p${i}`, `v${i}`, TYPE_AUTHORIZATION, new Uint8Array(i % 7)));
    const joined = joinResources(resources);
    const fields = { systemVersionInfo: "12", typeUrl: TYPE_AUTHORIZATION, nonce: "abc" };
    const whole = withJoinedResources(create(DeltaDiscoveryResponseEncodedSchema, fields), joined);
    const pieces = responseChunks(whole);
    expect(Buffer.concat(pieces)).toEqual(Buffer.from(toBinary(DeltaDiscoveryResponseEncodedSchema, whole)));
    // The big piece is the shared buffer itself, not a copy.
    expect(pieces.some((p) => p === joined)).toBe(true);
    // Without joined resources: one piece, the same bytes.
    const delta = create(DeltaDiscoveryResponseEncodedSchema, { ...fields, resources: resources.slice(0, 3), removedResources: ["demo/x"] });
    expect(responseChunks(delta)).toEqual([toBinary(DeltaDiscoveryResponseEncodedSchema, delta)]);
    // A field number that needs a two-byte tag, as unknown fields may have.
    const odd = create(DeltaDiscoveryResponseEncodedSchema, fields);
    odd.$unknown = [{ no: 300, wireType: 2, data: Uint8Array.from([2, 7, 7]) }];
    expect(Buffer.concat(responseChunks(odd))).toEqual(Buffer.from(toBinary(DeltaDiscoveryResponseEncodedSchema, odd)));
  });

  it("is served under the same service and method as the ordinary stream", () => {
    const m = AggregatedDiscoveryService.method.deltaAggregatedResources;
    expect([DELTA_AGGREGATED_RESOURCES_ENCODED.parent.typeName, DELTA_AGGREGATED_RESOURCES_ENCODED.name, DELTA_AGGREGATED_RESOURCES_ENCODED.input]).toEqual([
      m.parent.typeName,
      m.name,
      m.input,
    ]);
    expect(DELTA_AGGREGATED_RESOURCES_ENCODED.methodKind).toBe("bidi_streaming");
  });
});
