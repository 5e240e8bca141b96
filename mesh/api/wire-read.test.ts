// The direct Address reader against the library's fromBinary, its oracle: on generated messages and on
// the same bytes corrupted (bytes flipped, cut short, records inserted), both must fail or both must
// read the same fields, and addressFromProto must make the same resource (or the same error) of both.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { addressAt, addressFieldsFromBinary, envelopeFromBinary, resourceFieldsFromBinary } from "./wire-read.ts";
import { INTERN_MAX_ENTRIES, internTableSize } from "./wire-cursor.ts";
import { addressFromProto } from "./convert.ts";
import { WORKLOAD_INTERN_MAX_ENTRIES, workloadAt, workloadInternSize } from "./wire-workload.ts";
import { LazyWorkload } from "./lazy-workload.ts";
import type { Workload } from "./types.ts";
import { AddressSchema, WorkloadSchema } from "./gen/ambientlab/v1/workload_pb.js";
import { ResourceSchema } from "./gen/ambientlab/v1/discovery_pb.js";
import { checkCorruptions, concatBytes as concat, encodeRecord, outcome, plainFields as plain, unknownRecord } from "../testing/index.ts";

/** A record the schema may or may not know, in any wire type: what a newer or hostile sender adds. */
const record = unknownRecord(20);

/** The resource each side makes, with map key order made visible (toEqual ignores it). */
function resource(fields: Parameters<typeof addressFromProto>[0]): unknown {
  const r = addressFromProto(fields);
  return "workload" in r ? { ...r, order: [...r.workload.services.keys()] } : r;
}

function same(bytes: Uint8Array): void {
  const oracle = outcome(() => fromBinary(AddressSchema, bytes));
  const ours = outcome(() => addressFieldsFromBinary(bytes));
  expect(ours.ok).toBe(oracle.ok);
  if (!oracle.ok || !ours.ok) return;
  expect(plain(ours.value)).toEqual(plain(oracle.value));
  const a = outcome(() => resource(oracle.value as Parameters<typeof addressFromProto>[0]));
  const b = outcome(() => resource(ours.value as Parameters<typeof addressFromProto>[0]));
  expect(b).toEqual(a);
}

const text = fc.oneof(fc.constantFrom("", "a", "ns-1", "__proto__", "10", "2", "198.18.0.1", "fd00::1", "x.y.svc"), fc.string({ maxLength: 8 }));
const u32 = fc.oneof(fc.constantFrom(0, 1, 80, 15008, 65535, 65536, 4294967295), fc.nat());
// appProtocol: the known values, 0 (none) and unknown ones, which both readers keep as numbers.
const port = fc.record({ servicePort: u32, targetPort: u32, appProtocol: fc.constantFrom(0, 1, 2, 3, 7, -1) });
const gateway = fc.option(fc.record({ hostname: text, namespace: text, hbonePort: u32 }), { nil: undefined });
const workload = fc.record({
  uid: text,
  name: text,
  namespace: text,
  addresses: fc.array(text, { maxLength: 3 }),
  trustDomain: text,
  serviceAccount: text,
  node: text,
  tunnelProtocol: fc.constantFrom(0, 1, 7, -1),
  status: fc.constantFrom(0, 1, 9, -2147483648),
  services: fc.dictionary(text, fc.record({ ports: fc.array(port, { maxLength: 3 }) }), { maxKeys: 3 }),
  authorizationPolicies: fc.array(text, { maxLength: 3 }),
  canonicalName: text,
  canonicalRevision: text,
  workloadName: text,
  waypoint: gateway,
  nativeHbone: fc.boolean(),
  clusterId: text,
});
const service = fc.record({
  name: text,
  namespace: text,
  hostname: text,
  vips: fc.array(text, { maxLength: 3 }),
  ports: fc.array(port, { maxLength: 3 }),
  waypoint: gateway,
});
const address = fc.oneof(
  workload.map((value) => ({ type: { case: "workload" as const, value } })),
  service.map((value) => ({ type: { case: "service" as const, value } })),
  fc.constant({}),
);
const encoded = address.map((a) => toBinary(AddressSchema, create(AddressSchema, a as Parameters<typeof create<typeof AddressSchema>>[1])));

describe("addressFieldsFromBinary", () => {
  it("reads what fromBinary reads from generated messages", () => {
    fc.assert(fc.property(encoded, same), { numRuns: 500 });
  });

  it("merges a repeated workload, keeps the last oneof case, and reads records of other messages", () => {
    fc.assert(
      fc.property(fc.array(encoded, { minLength: 2, maxLength: 4 }), (parts) => same(concat(...parts))),
      { numRuns: 300 },
    );
  });

  it("agrees on corrupted bytes: flipped, cut short, or with records inserted", () => {
    checkCorruptions(encoded, same, { maxField: 20, maxParts: 1 });
  });

  it("merges a map entry's repeated value and defaults its missing key, as fromBinary does", () => {
    const ports = (n: number) => new BinaryWriter().tag(1, WireType.LengthDelimited).fork().uint32(8).uint32(n).join().finish();
    const entry = new BinaryWriter()
      .tag(1, WireType.LengthDelimited)
      .string("k")
      .tag(2, WireType.LengthDelimited)
      .bytes(ports(80))
      .tag(2, WireType.LengthDelimited)
      .bytes(ports(81))
      .finish();
    const keyless = new BinaryWriter().tag(2, WireType.LengthDelimited).bytes(ports(82)).finish();
    const w = new BinaryWriter().tag(10, WireType.LengthDelimited).bytes(entry).tag(10, WireType.LengthDelimited).bytes(keyless).finish();
    const bytes = new BinaryWriter().tag(1, WireType.LengthDelimited).bytes(w).finish();
    same(bytes);
    const fields = addressFieldsFromBinary(bytes).type;
    expect(fields.case === "workload" && plain(fields.value.services)).toEqual({
      k: {
        ports: [
          { servicePort: 80, targetPort: 0, appProtocol: 0 },
          { servicePort: 81, targetPort: 0, appProtocol: 0 },
        ],
      },
      "": { ports: [{ servicePort: 82, targetPort: 0, appProtocol: 0 }] },
    });
  });

  it("reads a bool from any varint encoding, as fromBinary does (ten bytes, only the last byte's low bit counts there)", () => {
    const withBool = (raw: number[]) => {
      const w = Uint8Array.of(0x88, 0x01, ...raw); // field 17, varint
      return concat(Uint8Array.of(0x0a, w.length), w);
    };
    const nines = Array<number>(9).fill(0x80);
    for (const raw of [
      [0],
      [1],
      [2],
      [0x81, 0],
      [...nines, 0],
      [...nines, 1],
      [...nines, 2],
      [...nines, 3],
      [...nines, 0x80],
      [0x80, 0x80, 0x80, 0x80, 0x90, 0],
    ]) {
      same(withBool(raw));
    }
  });

  it("fails on bytes that are not a message, as fromBinary does", () => {
    for (const b of [Uint8Array.of(0x0a, 0x05, 0x0a), Uint8Array.of(0x0a), Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff), Uint8Array.of(0x0b)]) same(b);
    expect(() => addressFieldsFromBinary(Uint8Array.of(0x0a, 0x05, 0x0a))).toThrow();
  });
});

describe("resourceFieldsFromBinary", () => {
  const resource = fc
    .record({ name: text, version: text, resource: fc.option(fc.record({ typeUrl: text, value: fc.uint8Array({ maxLength: 12 }) }), { nil: undefined }) })
    .map((r) => toBinary(ResourceSchema, create(ResourceSchema, r)));
  const sameResource = (bytes: Uint8Array) => {
    const oracle = outcome(() => fromBinary(ResourceSchema, bytes));
    const ours = outcome(() => resourceFieldsFromBinary(bytes));
    expect(ours.ok).toBe(oracle.ok);
    if (oracle.ok && ours.ok) expect(plain(ours.value)).toEqual(plain(oracle.value));
  };

  it("reads what fromBinary reads, merging a repeated value and on corrupted bytes", () => {
    checkCorruptions(resource, sameResource, { maxField: 20 });
  });
});

describe("envelopeFromBinary and addressAt", () => {
  const TYPE = "type.googleapis.com/ambientlab.v1.Address";
  const checkType = (typeUrl: string) => {
    if (typeUrl !== TYPE) throw new Error(`not an Address: ${typeUrl}`);
  };
  /** The two-step read it replaces: the envelope, the type check, then the Address in the Any's value. */
  const twoStep = (bytes: Uint8Array) => {
    const r = resourceFieldsFromBinary(bytes);
    if (!r.resource) return { name: r.name, version: r.version, typeUrl: "", address: undefined };
    checkType(r.resource.typeUrl);
    return { name: r.name, version: r.version, typeUrl: r.resource.typeUrl, address: addressFieldsFromBinary(r.resource.value) };
  };
  const sameOnePass = (bytes: Uint8Array) => {
    const oracle = outcome(() => twoStep(bytes));
    const ours = outcome(() => {
      const e = envelopeFromBinary(bytes);
      if (!e.hasBody) return { name: e.name, version: e.version, typeUrl: "", address: undefined };
      checkType(e.typeUrl);
      return { name: e.name, version: e.version, typeUrl: e.typeUrl, address: addressAt(bytes, e) };
    });
    expect(ours.ok).toBe(oracle.ok);
    if (oracle.ok && ours.ok) expect(plain(ours.value)).toEqual(plain(oracle.value));
    if (!oracle.ok && !ours.ok && oracle.error.startsWith("not an Address")) expect(ours.error).toBe(oracle.error);
  };
  // The envelope's name is usually the workload's uid: the reader reuses it when the bytes are equal.
  const envelope = fc
    .tuple(text, text, fc.option(fc.constantFrom(TYPE, "type.googleapis.com/ambientlab.v1.Authorization", ""), { nil: undefined }), encoded)
    .map(([name, version, typeUrl, value]) =>
      toBinary(ResourceSchema, create(ResourceSchema, { name, version, ...(typeUrl === undefined ? {} : { resource: { typeUrl, value } }) })),
    );

  it("reads what the envelope and then the Address read, on valid, merged and corrupted bytes", () => {
    fc.assert(
      fc.property(fc.array(envelope, { minLength: 1, maxLength: 3 }), fc.nat(), fc.integer({ min: 0, max: 255 }), fc.nat(), (parts, at, byte, cut) => {
        const b = concat(...parts);
        const flipped = b.slice();
        if (flipped.length) flipped[at % flipped.length] = byte;
        for (const v of [b, flipped, b.subarray(0, b.length ? cut % b.length : 0)]) sameOnePass(v);
      }),
      { numRuns: 1000 },
    );
  });

  it("reuses the envelope's name as the uid only when the bytes are the same ASCII", () => {
    const uid = (name: string, uidBytes: Uint8Array) => {
      const w = new BinaryWriter().tag(1, WireType.LengthDelimited).bytes(uidBytes).finish();
      const address = new BinaryWriter().tag(1, WireType.LengthDelimited).bytes(w).finish();
      return toBinary(ResourceSchema, create(ResourceSchema, { name, version: "1", resource: { typeUrl: TYPE, value: address } }));
    };
    // "é" is one UTF-16 unit; the single byte 0xe9 is not UTF-8 and must fail, as fromBinary fails.
    sameOnePass(uid("é", Uint8Array.of(0xe9)));
    const bytes = uid("é", Uint8Array.of(0xe9));
    expect(() => addressAt(bytes, envelopeFromBinary(bytes))).toThrow();
    sameOnePass(uid("ab", new TextEncoder().encode("ab")));
    sameOnePass(uid("ab", new TextEncoder().encode("ac")));
  });
});

describe("strings", () => {
  it("are strict UTF-8, as fromBinary reads them, whether interned or not", () => {
    // A service's name (field 1) is read as it is; its namespace (field 2) through the intern table.
    const service = (field: number, value: Uint8Array) => {
      const s = new BinaryWriter().tag(field, WireType.LengthDelimited).bytes(value).finish();
      return new BinaryWriter().tag(2, WireType.LengthDelimited).bytes(s).finish();
    };
    const cases = [
      new TextEncoder().encode("plain"),
      new TextEncoder().encode("ü-€-😀"),
      new TextEncoder().encode("\ufeffbom"),
      // U+FFFD itself is valid and must come back as it is.
      new TextEncoder().encode("a\ufffdb"),
      Uint8Array.of(0x61, 0x80), // a lone continuation byte
      Uint8Array.of(0xc0, 0x80), // an overlong NUL
      Uint8Array.of(0xed, 0xa0, 0x80), // a UTF-16 surrogate
      Uint8Array.of(0xe2, 0x82), // cut short
      Uint8Array.of(0xf4, 0x90, 0x80, 0x80), // past U+10FFFF
    ];
    for (const bytes of cases) {
      for (const field of [1, 2]) {
        const b = service(field, bytes);
        same(b);
        const oracle = outcome(() => fromBinary(AddressSchema, b));
        expect(outcome(() => addressFieldsFromBinary(b)).ok).toBe(oracle.ok);
      }
    }
  });
});

describe("the intern table", () => {
  it("stays bounded and reads right after being filled with distinct values", () => {
    const ns = (s: string) => toBinary(AddressSchema, create(AddressSchema, { type: { case: "service", value: { name: "s", namespace: s, hostname: "h" } } }));
    for (let i = 0; i < INTERN_MAX_ENTRIES * 2 + 10; i++) {
      const fields = addressFieldsFromBinary(ns(`ns-${i}`));
      expect(fields.type.case === "service" && fields.type.value.namespace).toBe(`ns-${i}`);
      expect(internTableSize()).toBeLessThanOrEqual(INTERN_MAX_ENTRIES);
    }
    // Values seen before (and possibly dropped since) still read as themselves.
    for (const i of [0, 1, INTERN_MAX_ENTRIES, INTERN_MAX_ENTRIES * 2 + 9]) same(ns(`ns-${i}`));
  });

  it("tells apart two values with the same hash and length", () => {
    // Found by search: equal FNV-1a hashes and lengths, so they share an intern slot.
    const read = (s: string) => {
      const bytes = toBinary(AddressSchema, create(AddressSchema, { type: { case: "service", value: { name: "s", namespace: s, hostname: "h" } } }));
      const f = addressFieldsFromBinary(bytes).type;
      return f.case === "service" ? f.value.namespace : undefined;
    };
    for (let round = 0; round < 2; round++) {
      expect(read("ns-005vl8")).toBe("ns-005vl8");
      expect(read("ns-00mpd6")).toBe("ns-00mpd6");
    }
  });
});

describe("workloadAt (a workload straight from the wire)", () => {
  const TYPE = "type.googleapis.com/ambientlab.v1.Address";
  const inEnvelope = (name: string, address: Uint8Array) =>
    toBinary(ResourceSchema, create(ResourceSchema, { name, version: "v", resource: { typeUrl: TYPE, value: address } }));
  /** What the general path makes of the same bytes: a workload, or why not. */
  const general = (bytes: Uint8Array) => outcome(() => addressFromProto(addressAt(bytes, envelopeFromBinary(bytes))));
  /**
   * Maps as their entries in order: toEqual alone does not see a map's order, which config dumps and indexes
   * do. A lazy workload as its fields read one by one through its getters, which must also equal its JSON.
   */
  const ordered = (v: unknown): unknown =>
    v instanceof LazyWorkload
      ? ordered(throughGetters(v))
      : v instanceof Map
        ? [...v.entries()].map(([k, x]) => [k, ordered(x)])
        : Array.isArray(v)
          ? v.map(ordered)
          : v && typeof v === "object"
            ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, ordered(x)]))
            : v;
  const throughGetters = (w: LazyWorkload): Record<string, unknown> => {
    const json = w.toJSON();
    const read = Object.fromEntries(Object.keys(json).map((k) => [k, w[k as keyof Workload]]));
    expect(read).toEqual(json);
    return read;
  };
  /** The fast path either steps aside or gives exactly what the general path gives. */
  const agrees = (bytes: Uint8Array) => {
    const e = outcome(() => envelopeFromBinary(bytes));
    if (!e.ok) return;
    const fast = workloadAt(bytes, e.value as ReturnType<typeof envelopeFromBinary>);
    if (fast === undefined) return;
    expect(ordered(general(bytes))).toEqual(ordered({ ok: true, value: { workload: fast } }));
  };

  const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/);
  const orEmpty = (a: fc.Arbitrary<string>) => fc.oneof(fc.constant(""), a);
  const sortedPorts = fc
    .uniqueArray(fc.integer({ min: 1, max: 65535 }), { maxLength: 3 })
    .chain((sps) =>
      fc.tuple(
        ...sps
          .sort((a, b) => a - b)
          .map((sp) => fc.record({ servicePort: fc.constant(sp), targetPort: fc.integer({ min: 0, max: 65535 }), appProtocol: fc.constantFrom(0, 1, 2, 3) })),
      ),
    );
  // In range but in any order, repeated, or at the edges: what the general path sorts or refuses.
  const anyPorts = fc.array(
    fc.record({
      servicePort: fc.constantFrom(0, 1, 80, 80, 65535, 65536),
      targetPort: fc.constantFrom(0, 8080, 65535, 65536),
      appProtocol: fc.constantFrom(0, 1, 7),
    }),
    { maxLength: 3 },
  );
  const serviceKey = fc.stringMatching(/^[a-z][a-z0-9./-]{0,12}$/);
  // Keys that order like array indexes in fromBinary's object, and keys an object treats specially.
  const oddKey = fc.oneof(serviceKey, fc.constantFrom("10", "2", "0", "01", "__proto__", ""));
  const workloadOf = (key: fc.Arbitrary<string>, ports: fc.Arbitrary<Array<{ servicePort: number; targetPort: number; appProtocol: number }>>) =>
    fc.record({
      uid: name,
      name,
      namespace: name,
      addresses: fc.array(fc.oneof(fc.ipV4(), fc.ipV6()), { minLength: 1, maxLength: 2 }),
      trustDomain: orEmpty(name),
      serviceAccount: orEmpty(name),
      node: name,
      tunnelProtocol: fc.constantFrom(0, 1),
      status: fc.constantFrom(0, 1),
      services: fc.dictionary(key, fc.record({ ports }), { maxKeys: 3 }),
      authorizationPolicies: fc.array(name, { maxLength: 2 }),
      canonicalName: orEmpty(name),
      canonicalRevision: orEmpty(name),
      workloadName: orEmpty(name),
      waypoint: fc.option(fc.record({ hostname: orEmpty(name), namespace: name, hbonePort: fc.constantFrom(0, 15008, 15009) }), { nil: undefined }),
      nativeHbone: fc.boolean(),
      clusterId: orEmpty(name),
    });
  const workloadBytes = (w: object) => toBinary(WorkloadSchema, create(WorkloadSchema, w));
  /** An Address whose workload record holds `inner` (one workload's fields, or several concatenated: fromBinary merges them). */
  const addressOf = (inner: Uint8Array) => new BinaryWriter().tag(1, WireType.LengthDelimited).bytes(inner).finish();
  const validAddress = workloadOf(serviceKey, sortedPorts).map((w) => addressOf(workloadBytes(w)));
  const validBytes = validAddress.map((a) => {
    const parsed = addressFieldsFromBinary(a).type;
    return inEnvelope(parsed.case === "workload" ? parsed.value.uid : "", a);
  });
  const looseWorkload = workloadOf(oddKey, anyPorts).map(workloadBytes);
  // Two workloads' fields in one record: every singular field twice, the waypoint merged, entries repeated.
  const mergedAddress = fc.tuple(looseWorkload, looseWorkload).map(([a, b]) => addressOf(concat(a, b)));

  it("reads every valid workload a control plane writes, as the general path does", () => {
    fc.assert(
      fc.property(validBytes, (bytes) => {
        const fast = workloadAt(bytes, envelopeFromBinary(bytes));
        expect(fast).toBeDefined();
        expect(ordered(general(bytes))).toEqual(ordered({ ok: true, value: { workload: fast } }));
      }),
      { numRuns: 500 },
    );
  });

  it("steps aside, or agrees, on anything else: generated addresses, merged messages, corrupted bytes", () => {
    fc.assert(
      fc.property(
        fc.oneof(encoded, validAddress, looseWorkload.map(addressOf), mergedAddress),
        fc.array(encoded, { maxLength: 2 }),
        fc.nat(),
        fc.integer({ min: 0, max: 255 }),
        fc.array(record, { maxLength: 2 }),
        (address, more, at, byte, recs) => {
          const flipped = address.slice();
          if (flipped.length) flipped[at % flipped.length] = byte;
          const extra = concat(...recs.map(encodeRecord));
          for (const a of [address, flipped, concat(address, ...more), concat(extra, address), concat(address, extra)]) agrees(inEnvelope("u", a));
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("steps aside when a nested message's last value runs past its end", () => {
    const w = new BinaryWriter();
    for (const [no, v] of [
      [1, "u"],
      [2, "p"],
      [3, "ns"],
      [4, "198.18.0.1"],
      [7, "n"],
    ] as const)
      w.tag(no, WireType.LengthDelimited).string(v);
    // A port (servicePort 128, a two-byte varint) declared one byte short, then another port and a target port.
    const port = Uint8Array.of(0x08, 0x80, 0x01);
    const list = concat(Uint8Array.of(0x0a, 0x02), port, Uint8Array.of(0x0a, 0x02, 0x08, 0x51));
    const entry = new BinaryWriter().tag(1, WireType.LengthDelimited).string("ns/s").tag(2, WireType.LengthDelimited).bytes(list).finish();
    w.tag(10, WireType.LengthDelimited).bytes(entry);
    const bytes = inEnvelope("u", addressOf(w.finish()));
    agrees(bytes);
    expect(general(bytes).ok).toBe(true);
    expect(workloadAt(bytes, envelopeFromBinary(bytes))).toBeUndefined();
  });

  it("leaves services keys that order like array indexes to the general path (fromBinary's object puts them first)", () => {
    const entry = (key: string) =>
      new BinaryWriter()
        .tag(1, WireType.LengthDelimited)
        .string(key)
        .tag(2, WireType.LengthDelimited)
        .bytes(new BinaryWriter().tag(1, WireType.LengthDelimited).bytes(Uint8Array.of(0x08, 0x50)).finish())
        .finish();
    const w = workloadBytes({ uid: "u", name: "p", namespace: "ns", node: "n", addresses: ["198.18.0.1"] });
    for (const keys of [
      ["ns/a", "10"],
      ["10", "ns/a"],
      ["ns/a", "ns/b"],
    ]) {
      const fields = concat(w, ...keys.map((k) => new BinaryWriter().tag(10, WireType.LengthDelimited).bytes(entry(k)).finish()));
      const bytes = inEnvelope("u", addressOf(fields));
      agrees(bytes);
      const g = general(bytes);
      expect(g.ok && [...(g.value as { workload: { services: Map<string, unknown> } }).workload.services.keys()]).toEqual(
        keys[0] === "ns/a" && keys[1] === "10" ? ["10", "ns/a"] : keys,
      );
    }
  });

  it("shares one services map among the workloads of a service, and keeps its tables bounded", () => {
    const pod = (i: number, service: string) =>
      inEnvelope(
        `p${i}`,
        toBinary(
          AddressSchema,
          create(AddressSchema, {
            type: {
              case: "workload",
              value: {
                uid: `p${i}`,
                name: `p${i}`,
                namespace: "ns",
                node: "n",
                addresses: [`198.18.${(i >> 8) & 255}.${i & 255}`],
                services: { [service]: { ports: [{ servicePort: 80, targetPort: i % 7 }] } },
              },
            },
          }),
        ),
      );
    const read = (b: Uint8Array) => workloadAt(b, envelopeFromBinary(b))!;
    const a = read(pod(1, "ns/a"));
    const b = read(pod(8, "ns/a"));
    expect(a.services).toBe(b.services);
    expect(read(pod(2, "ns/a")).services).not.toBe(a.services);
    for (let i = 0; i < WORKLOAD_INTERN_MAX_ENTRIES * 2; i++) {
      const w = read(pod(i, `ns/s${i}`));
      expect([...w.services.keys()]).toEqual([`ns/s${i}`]);
      expect(workloadInternSize()).toBeLessThanOrEqual(2 * WORKLOAD_INTERN_MAX_ENTRIES);
    }
  });
});
