// The encoded response is a DeltaDiscoveryResponse on the wire: what the control plane writes with
// resources encoded once, proxies read with the ordinary schema.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { anyPack, anyUnpack } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { DELTA_AGGREGATED_RESOURCES_ENCODED, encodeResource } from "./ads-encoded.ts";
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
