// The direct Authorization reader against the library's fromBinary, its oracle: on generated policies and
// on the same bytes merged, cut, corrupted and with unknown records around, both fail or both read the same
// fields, and authorizationFromProto makes the same policy (or the same error) of both.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { authorizationFromProto } from "./convert.ts";
import { AuthorizationSchema } from "./gen/ambientlab/v1/authorization_pb.js";
import { authorizationFieldsAt } from "./wire-authorization.ts";
import { checkCorruptions, concatBytes as concat, outcome, plainFields as plain } from "../testing/index.ts";

const text = fc.oneof(fc.constantFrom("", "a", "ns-1", "198.18.0.0/15", "fd00::/8", "spiffe://cluster.local/ns/a/sa/b", "x/y"), fc.string({ maxLength: 6 }));
const stringMatch = fc.oneof(
  fc.record({ case: fc.constantFrom("exact" as const, "prefix" as const, "suffix" as const), value: text }),
  fc.record({ case: fc.constant("presence" as const), value: fc.boolean() }),
  fc.constant({ case: undefined }),
);
const matches = fc.array(fc.record({ matchType: stringMatch }), { maxLength: 2 });
const portList = fc.array(fc.oneof(fc.constantFrom(0, 1, 80, 65535, 65536), fc.nat()), { maxLength: 3 });
const match = fc.record({
  namespaces: matches,
  notNamespaces: matches,
  principals: matches,
  notPrincipals: matches,
  sourceIps: fc.array(text, { maxLength: 2 }),
  notSourceIps: fc.array(text, { maxLength: 2 }),
  destinationIps: fc.array(text, { maxLength: 2 }),
  notDestinationIps: fc.array(text, { maxLength: 2 }),
  destinationPorts: portList,
  notDestinationPorts: portList,
});
const policy = fc.record({
  name: text,
  namespace: text,
  scope: fc.constantFrom(0, 1, 2, 7),
  action: fc.constantFrom(0, 1, 5),
  rules: fc.array(fc.record({ clauses: fc.array(fc.record({ matches: fc.array(match, { maxLength: 2 }) }), { maxLength: 2 }) }), { maxLength: 2 }),
  dryRun: fc.boolean(),
});
const encoded = policy.map((p) => toBinary(AuthorizationSchema, create(AuthorizationSchema, p as Parameters<typeof create<typeof AuthorizationSchema>>[1])));
function same(bytes: Uint8Array): void {
  const oracle = outcome(() => fromBinary(AuthorizationSchema, bytes));
  const ours = outcome(() => authorizationFieldsAt(bytes));
  expect(ours.ok).toBe(oracle.ok);
  if (!oracle.ok || !ours.ok) return;
  expect(plain(ours.value)).toEqual(plain(oracle.value));
  const a = outcome(() => authorizationFromProto(oracle.value as Parameters<typeof authorizationFromProto>[0]));
  const b = outcome(() => authorizationFromProto(ours.value as Parameters<typeof authorizationFromProto>[0]));
  expect(b).toEqual(a);
}

describe("authorizationFieldsAt", () => {
  it("reads what fromBinary reads: generated, merged, cut, corrupted, with unknown records", () => {
    checkCorruptions(encoded, same, { maxField: 12, maxParts: 2, maxRecords: 2 });
  });

  it("takes ports packed and one per record, and reads in place within a larger buffer", () => {
    const unpacked = new BinaryWriter().tag(9, WireType.Varint).uint32(80).tag(9, WireType.Varint).uint32(443).finish();
    const match = new BinaryWriter().tag(1, WireType.LengthDelimited).bytes(unpacked).finish();
    const rule = new BinaryWriter().tag(1, WireType.LengthDelimited).bytes(match).finish();
    const bytes = new BinaryWriter().tag(1, WireType.LengthDelimited).string("p").tag(5, WireType.LengthDelimited).bytes(rule).finish();
    same(bytes);
    expect(authorizationFieldsAt(bytes).rules[0]?.clauses[0]?.matches[0]?.destinationPorts).toEqual([80, 443]);
    const padded = concat(Uint8Array.of(0xff, 0xff), bytes, Uint8Array.of(0xff));
    expect(plain(authorizationFieldsAt(padded, 2, 2 + bytes.length))).toEqual(plain(fromBinary(AuthorizationSchema, bytes)));
  });
});
