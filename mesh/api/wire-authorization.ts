// An Authorization read straight from the wire with a WireCursor, into the fields fromBinary would make
// (then authorizationFromProto validates them, as before). A first sync reads every policy of the cluster
// (500 here), and protobuf-es's reflective decoder made a generic message object per rule, clause, match
// and string match, and was itself compiled by V8 during the sync: leaving the policies out of a cold
// first sync saved 26 ms of CPU, 12 of them once warm (issue 13). The rules are fromBinary's: fields by
// number, read by their declared type, the last scalar or oneof case wins, repeated fields append,
// packed or unpacked ports, unknown fields skipped; wire-authorization.test.ts holds the two equal on
// generated, merged and corrupted messages.
import { WireType } from "@bufbuild/protobuf/wire";
import type { AuthorizationFields, MatchFields, StringMatchFields } from "./convert.ts";
import { WireCursor } from "./wire-cursor.ts";

/** fromBinary's default recursion limit: what is left of it bounds how deep an unknown group is skipped. */
const RECURSION_LIMIT = 100;

function skip(r: WireCursor, tag: number, depth: number): void {
  r.skip(tag & 7, tag >>> 3, RECURSION_LIMIT - depth);
}

function stringMatch(r: WireCursor, depth: number): StringMatchFields {
  const m: StringMatchFields = { matchType: { case: undefined } };
  const end = r.uint32() + r.pos;
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 1:
        m.matchType = { case: "exact", value: r.string() };
        break;
      case 2:
        m.matchType = { case: "prefix", value: r.string() };
        break;
      case 3:
        m.matchType = { case: "suffix", value: r.string() };
        break;
      case 4:
        m.matchType = { case: "presence", value: r.bool() };
        break;
      default:
        skip(r, tag, depth);
    }
  }
  return m;
}

/** A repeated uint32: packed (one length-delimited run) or one value per record, as fromBinary takes either. */
function ports(r: WireCursor, tag: number, into: number[]): void {
  if ((tag & 7) !== WireType.LengthDelimited) {
    into.push(r.uint32());
    return;
  }
  const end = r.uint32() + r.pos;
  while (r.pos < end) into.push(r.uint32());
}

function match(r: WireCursor, depth: number): MatchFields {
  const m: MatchFields = {
    namespaces: [],
    notNamespaces: [],
    principals: [],
    notPrincipals: [],
    sourceIps: [],
    notSourceIps: [],
    destinationIps: [],
    notDestinationIps: [],
    destinationPorts: [],
    notDestinationPorts: [],
  };
  const end = r.uint32() + r.pos;
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 1:
        m.namespaces.push(stringMatch(r, depth + 1));
        break;
      case 2:
        m.notNamespaces.push(stringMatch(r, depth + 1));
        break;
      case 3:
        m.principals.push(stringMatch(r, depth + 1));
        break;
      case 4:
        m.notPrincipals.push(stringMatch(r, depth + 1));
        break;
      case 5:
        m.sourceIps.push(r.string());
        break;
      case 6:
        m.notSourceIps.push(r.string());
        break;
      case 7:
        m.destinationIps.push(r.string());
        break;
      case 8:
        m.notDestinationIps.push(r.string());
        break;
      case 9:
        ports(r, tag, m.destinationPorts);
        break;
      case 10:
        ports(r, tag, m.notDestinationPorts);
        break;
      default:
        skip(r, tag, depth);
    }
  }
  return m;
}

/** A Clause: its matches (field 1). */
function clause(r: WireCursor, depth: number): { matches: MatchFields[] } {
  const c = { matches: [] as MatchFields[] };
  const end = r.uint32() + r.pos;
  while (r.pos < end) {
    const tag = r.tag();
    if (tag >>> 3 === 1) c.matches.push(match(r, depth + 1));
    else skip(r, tag, depth);
  }
  return c;
}

/** A Rule: its clauses (field 1). */
function rule(r: WireCursor, depth: number): { clauses: Array<{ matches: MatchFields[] }> } {
  const out = { clauses: [] as Array<{ matches: MatchFields[] }> };
  const end = r.uint32() + r.pos;
  while (r.pos < end) {
    const tag = r.tag();
    if (tag >>> 3 === 1) out.clauses.push(clause(r, depth + 1));
    else skip(r, tag, depth);
  }
  return out;
}

/** The Authorization message in bytes[start, end), as fromBinary(AuthorizationSchema, ...) reads it. */
export function authorizationFieldsAt(bytes: Uint8Array, start = 0, end = bytes.length): AuthorizationFields {
  const r = new WireCursor(bytes, start, end);
  const a: AuthorizationFields = { name: "", namespace: "", scope: 0, action: 0, rules: [], dryRun: false };
  while (r.pos < r.len) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 1:
        a.name = r.string();
        break;
      case 2:
        a.namespace = r.string(true);
        break;
      case 3:
        a.scope = r.int32();
        break;
      case 4:
        a.action = r.int32();
        break;
      case 5:
        a.rules.push(rule(r, 2));
        break;
      case 6:
        a.dryRun = r.bool();
        break;
      default:
        skip(r, tag, 1);
    }
  }
  return a;
}
