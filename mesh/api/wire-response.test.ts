// The config response reader against fromBinary, its oracle: on generated responses and on the same bytes
// corrupted (a byte flipped, cut short, unknown records around), both fail or both read the same fields.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DeltaDiscoveryResponseEncodedSchema } from "./gen/ambientlab/v1/discovery_pb.js";
import { configResponseFromBinary, resourcesOf } from "./wire-response.ts";

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
const record = fc.record({
  no: fc.integer({ min: 1, max: 9 }),
  wire: fc.constantFrom(WireType.Varint, WireType.LengthDelimited, WireType.Bit32, WireType.Bit64),
  n: fc.nat(),
});
function encodeRecord(r: { no: number; wire: WireType; n: number }): Uint8Array {
  const w = new BinaryWriter().tag(r.no, r.wire);
  if (r.wire === WireType.Varint) w.uint32(r.n);
  else if (r.wire === WireType.Bit32) w.fixed32(r.n);
  else if (r.wire === WireType.Bit64) w.fixed64(r.n);
  else w.bytes(new Uint8Array(r.n % 5).fill(0x41));
  return w.finish();
}
const concat = (...parts: Uint8Array[]) => Uint8Array.from(Buffer.concat(parts));

type Outcome = { ok: true; value: unknown } | { ok: false };
function outcome(f: () => unknown): Outcome {
  try {
    return { ok: true, value: f() };
  } catch {
    return { ok: false };
  }
}

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
    fc.assert(
      fc.property(
        fc.array(response, { minLength: 1, maxLength: 3 }),
        fc.nat(),
        fc.integer({ min: 0, max: 255 }),
        fc.nat(),
        fc.array(record, { maxLength: 3 }),
        (parts, at, byte, cut, recs) => {
          const b = concat(...parts);
          const flipped = b.slice();
          if (flipped.length) flipped[at % flipped.length] = byte;
          const extra = concat(...recs.map(encodeRecord));
          for (const v of [b, flipped, b.subarray(0, b.length ? cut % b.length : 0), concat(extra, b), concat(b, extra)]) same(v);
        },
      ),
      { numRuns: 1000 },
    );
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
