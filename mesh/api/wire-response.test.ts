// The config response reader against fromBinary, its oracle: on generated responses and on the same bytes
// corrupted (a byte flipped, cut short, unknown records around), both fail or both read the same fields.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DeltaDiscoveryResponseEncodedSchema } from "./gen/ambientlab/v1/discovery_pb.js";
import { configResponseFromBinary, resourcesOf } from "./wire-response.ts";
import { checkCorruptions, outcome } from "../testing/index.ts";

const text = fc.oneof(fc.constantFrom("", "1", "type.googleapis.com/ambientlab.v1.Address", "ns/x"), fc.string({ maxLength: 8 }));
const response = fc
  .record({
    systemVersionInfo: text,
    typeUrl: text,
    resources: fc.array(fc.uint8Array({ maxLength: 12 }), { maxLength: 4 }),
    removedResources: fc.array(text, { maxLength: 3 }),
    nonce: text,
  })
  .map((r) => toBinary(DeltaDiscoveryResponseEncodedSchema, create(DeltaDiscoveryResponseEncodedSchema, r)));
function same(bytes: Uint8Array): void {
  const oracle = outcome(() => {
    const m = fromBinary(DeltaDiscoveryResponseEncodedSchema, bytes);
    return { systemVersionInfo: m.systemVersionInfo, typeUrl: m.typeUrl, nonce: m.nonce, removedResources: m.removedResources, resources: m.resources };
  });
  const ours = outcome(() => {
    const r = configResponseFromBinary(bytes);
    expect(r.bytes).toBe(bytes);
    return { systemVersionInfo: r.systemVersionInfo, typeUrl: r.typeUrl, nonce: r.nonce, removedResources: r.removedResources, resources: resourcesOf(r) };
  });
  expect(ours.ok).toBe(oracle.ok);
  if (oracle.ok && ours.ok) expect(ours.value).toEqual(oracle.value);
}

describe("configResponseFromBinary", () => {
  it("reads what fromBinary reads: merged messages, unknown records, corrupted and cut bytes", () => {
    checkCorruptions(response, same, { maxField: 9 });
  });

  it("leaves the resources in the message's bytes, as offsets", () => {
    const bytes = toBinary(
      DeltaDiscoveryResponseEncodedSchema,
      create(DeltaDiscoveryResponseEncodedSchema, { typeUrl: "t", nonce: "n", resources: [Uint8Array.of(1, 2), Uint8Array.of(3)] }),
    );
    const r = configResponseFromBinary(bytes);
    expect(r.ranges).toHaveLength(4);
    expect([...bytes.subarray(r.ranges[0], r.ranges[1])]).toEqual([1, 2]);
    expect([...bytes.subarray(r.ranges[2], r.ranges[3])]).toEqual([3]);
  });
});
