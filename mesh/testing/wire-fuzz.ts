// Shared pieces of the wire readers' property tests (mesh/api/wire-read, wire-response and
// wire-authorization tests): each reader is held equal to protobuf-es's fromBinary on the same bytes,
// corrupted the same ways, with the records a newer or hostile sender adds.
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import fc from "fast-check";

/** A record the schema may or may not know (field 1..maxField), in any wire type but groups. */
export function unknownRecord(maxField: number): fc.Arbitrary<{ no: number; wire: WireType; n: number }> {
  return fc.record({
    no: fc.integer({ min: 1, max: maxField }),
    wire: fc.constantFrom(WireType.Varint, WireType.LengthDelimited, WireType.Bit32, WireType.Bit64),
    n: fc.nat(),
  });
}

export function encodeRecord(r: { no: number; wire: WireType; n: number }): Uint8Array {
  const w = new BinaryWriter().tag(r.no, r.wire);
  if (r.wire === WireType.Varint) w.uint32(r.n);
  else if (r.wire === WireType.Bit32) w.fixed32(r.n);
  else if (r.wire === WireType.Bit64) w.fixed64(r.n);
  else w.bytes(new Uint8Array(r.n % 5).fill(0x41));
  return w.finish();
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(Buffer.concat(parts));
}

/**
 * The bytes as they are, with one byte set to `byte` (at `at`, modulo the length), cut short (at `cut`,
 * modulo), and with `extra` (encoded unknown records) before and after.
 */
export function corruptions(bytes: Uint8Array, at: number, byte: number, cut: number, extra: Uint8Array): Uint8Array[] {
  const flipped = bytes.slice();
  if (flipped.length) flipped[at % flipped.length] = byte;
  return [bytes, flipped, bytes.subarray(0, bytes.length ? cut % bytes.length : 0), concatBytes(extra, bytes), concatBytes(bytes, extra)];
}

/**
 * Asserts `check` on every corruption (above) of 1..maxParts generated messages joined (a reader must
 * merge repeated messages as fromBinary does), with up to maxRecords unknown records of fields
 * 1..maxField around them: the property each wire reader's test holds against fromBinary.
 */
export function checkCorruptions(
  message: fc.Arbitrary<Uint8Array>,
  check: (bytes: Uint8Array) => void,
  o: { maxField: number; maxParts?: number; maxRecords?: number; numRuns?: number },
): void {
  fc.assert(
    fc.property(
      fc.array(message, { minLength: 1, maxLength: o.maxParts ?? 3 }),
      fc.nat(),
      fc.integer({ min: 0, max: 255 }),
      fc.nat(),
      fc.array(unknownRecord(o.maxField), { maxLength: o.maxRecords ?? 3 }),
      (parts, at, byte, cut, recs) => {
        for (const v of corruptions(concatBytes(...parts), at, byte, cut, concatBytes(...recs.map(encodeRecord)))) check(v);
      },
    ),
    { numRuns: o.numRuns ?? 1000 },
  );
}

export type Outcome = { ok: true; value: unknown } | { ok: false; error: string };

/** What `f` returns, or the message it throws. */
export function outcome(f: () => unknown): Outcome {
  try {
    return { ok: true, value: f() };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}

/** A message's fields without the library's bookkeeping ($typeName, $unknown) or unset message fields. */
export function plainFields(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(plainFields);
  if (v && typeof v === "object" && !(v instanceof Uint8Array)) {
    return Object.fromEntries(
      Object.entries(v)
        .filter(([k, x]) => !k.startsWith("$") && x !== undefined)
        .map(([k, x]) => [k, plainFields(x)]),
    );
  }
  return v;
}
