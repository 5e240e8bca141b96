// Config resources (Resource envelopes and Address values) read straight from the wire. A proxy's first
// sync decodes every workload and service in the cluster (10,000 pods: 12,000 resources), and the
// reflective decoder (fromBinary + anyUnpack) spent ~50 us on each creating and filling generic
// message objects: 0.5 s of CPU per proxy, times every proxy on a node's cores (issue 13). These
// readers walk the same bytes with a WireCursor (wire-cursor.ts: BinaryReader's rules without its
// garbage) into plain objects of the same shape, following fromBinary's rules exactly (fields
// dispatched by number and read by their declared type, the last scalar wins, repeated fields append,
// a repeated message field or oneof case merges, map entries default a missing key or value, unknown
// fields skipped); wire-read.test.ts holds them equal to fromBinary on generated and on corrupted
// messages. Validation stays in addressFromProto.
import { WireCursor } from "./wire-cursor.ts";
import type { AddressFields, GatewayFields, PortFields, ServiceFields, WorkloadFields } from "./convert.ts";

/** A Resource of the config stream: its value is an Any (`typeUrl`, encoded `value`), absent if not sent. */
export interface ResourceFields {
  name: string;
  version: string;
  resource: { typeUrl: string; value: Uint8Array } | undefined;
}

/** A Resource envelope as read in place: the Any's type URL and where its value lies in the same bytes. */
export interface EnvelopeFields {
  name: string;
  version: string;
  /** False if the resource has no body (the Any is absent). */
  hasBody: boolean;
  typeUrl: string;
  start: number;
  end: number;
}

/** fromBinary's default recursion limit: what is left of it bounds how deep an unknown group is skipped. */
const RECURSION_LIMIT = 100;

type Reader = WireCursor;

/** Skips a record the reader does not take, at nesting `depth` (the Address is 1). */
function skip(r: Reader, tag: number, depth: number): void {
  r.skip(tag & 7, tag >>> 3, RECURSION_LIMIT - depth);
}

const str = (r: Reader) => r.string();
/** A field whose values repeat across resources (namespaces, nodes, service keys): interned. */
const shared = (r: Reader) => r.string(true);

function gateway(r: Reader, depth: number, into: GatewayFields | undefined): GatewayFields {
  const g = into ?? { hostname: "", namespace: "", hbonePort: 0 };
  const end = r.uint32() + r.pos;
  while (r.pos < end) {
    const tag = r.tag();
    const no = tag >>> 3;
    if (no === 1) g.hostname = shared(r);
    else if (no === 2) g.namespace = shared(r);
    else if (no === 3) g.hbonePort = r.uint32();
    else skip(r, tag, depth);
  }
  return g;
}

function port(r: Reader, depth: number): PortFields {
  const p: PortFields = { servicePort: 0, targetPort: 0, appProtocol: 0 };
  const end = r.uint32() + r.pos;
  while (r.pos < end) {
    const tag = r.tag();
    const no = tag >>> 3;
    if (no === 1) p.servicePort = r.uint32();
    else if (no === 2) p.targetPort = r.uint32();
    else if (no === 3) p.appProtocol = r.int32();
    else skip(r, tag, depth);
  }
  return p;
}

function portList(r: Reader, depth: number, into: { ports: PortFields[] } | undefined): { ports: PortFields[] } {
  const l = into ?? { ports: [] };
  const end = r.uint32() + r.pos;
  while (r.pos < end) {
    const tag = r.tag();
    if (tag >>> 3 === 1) l.ports.push(port(r, depth + 1));
    else skip(r, tag, depth);
  }
  return l;
}

/**
 * One entry of map<string, PortList>: a missing key is "", a missing value an empty list. An entry is
 * not a nesting level of its own (`depth` is the workload's); its value is.
 */
function servicesEntry(r: Reader, depth: number, into: Record<string, { ports: PortFields[] }>): void {
  let key: string | undefined;
  let value: { ports: PortFields[] } | undefined;
  const end = r.uint32() + r.pos;
  while (r.pos < end) {
    const tag = r.tag();
    const no = tag >>> 3;
    if (no === 1) key = shared(r);
    else if (no === 2) value = portList(r, depth + 1, value);
    else skip(r, tag, depth);
  }
  into[key ?? ""] = value ?? { ports: [] };
}

/** `uidHint` is the envelope's name, which is the workload's uid: equal bytes reuse that string. */
function workload(r: Reader, depth: number, into: WorkloadFields | undefined, uidHint: string | undefined): WorkloadFields {
  const w: WorkloadFields = into ?? {
    uid: "",
    name: "",
    namespace: "",
    addresses: [],
    trustDomain: "",
    serviceAccount: "",
    node: "",
    tunnelProtocol: 0,
    status: 0,
    // Null-prototype, like fromBinary's record for "__proto__" keys, and ordered the way Object.entries orders it.
    services: Object.create(null) as Record<string, { ports: PortFields[] }>,
    authorizationPolicies: [],
    canonicalName: "",
    canonicalRevision: "",
    workloadName: "",
    waypoint: undefined,
    nativeHbone: false,
    clusterId: "",
  };
  const end = r.uint32() + r.pos;
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 1:
        w.uid = uidHint !== undefined && r.stringEquals(uidHint) ? uidHint : str(r);
        break;
      case 2:
        w.name = str(r);
        break;
      case 3:
        w.namespace = shared(r);
        break;
      case 4:
        w.addresses.push(str(r));
        break;
      case 5:
        w.trustDomain = shared(r);
        break;
      case 6:
        w.serviceAccount = shared(r);
        break;
      case 7:
        w.node = shared(r);
        break;
      case 8:
        w.tunnelProtocol = r.int32();
        break;
      case 9:
        w.status = r.int32();
        break;
      case 10:
        servicesEntry(r, depth, w.services);
        break;
      case 11:
        w.authorizationPolicies.push(shared(r));
        break;
      case 12:
        w.canonicalName = shared(r);
        break;
      case 13:
        w.canonicalRevision = shared(r);
        break;
      case 14:
        w.workloadName = shared(r);
        break;
      case 15:
        w.waypoint = gateway(r, depth + 1, w.waypoint);
        break;
      case 16:
        w.clusterId = shared(r);
        break;
      case 17:
        w.nativeHbone = r.bool();
        break;
      default:
        skip(r, tag, depth);
    }
  }
  return w;
}

function service(r: Reader, depth: number, into: ServiceFields | undefined): ServiceFields {
  const s: ServiceFields = into ?? { name: "", namespace: "", hostname: "", vips: [], ports: [], waypoint: undefined };
  const end = r.uint32() + r.pos;
  while (r.pos < end) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 1:
        s.name = str(r);
        break;
      case 2:
        s.namespace = shared(r);
        break;
      case 3:
        s.hostname = str(r);
        break;
      case 4:
        s.vips.push(str(r));
        break;
      case 5:
        s.ports.push(port(r, depth + 1));
        break;
      case 6:
        s.waypoint = gateway(r, depth + 1, s.waypoint);
        break;
      default:
        skip(r, tag, depth);
    }
  }
  return s;
}

/** The Address message between the cursor's position and its `len`. */
function address(r: Reader, uidHint: string | undefined): AddressFields {
  let type: AddressFields["type"] = { case: undefined };
  while (r.pos < r.len) {
    const tag = r.tag();
    const no = tag >>> 3;
    if (no === 1) type = { case: "workload", value: workload(r, 2, type.case === "workload" ? type.value : undefined, uidHint) };
    else if (no === 2) type = { case: "service", value: service(r, 2, type.case === "service" ? type.value : undefined) };
    else skip(r, tag, 1);
  }
  return { type };
}

/** An ambientlab.v1.Address message's fields, as fromBinary(AddressSchema, bytes) reads them. */
export function addressFieldsFromBinary(bytes: Uint8Array): AddressFields {
  return address(new WireCursor(bytes), undefined);
}

/**
 * Reads a Resource envelope at the cursor (up to its `len`): name and version, and the Any's type URL and
 * the range of its value; `value` ranges merge as fromBinary merges a repeated message field (the last wins).
 */
function envelope(r: Reader): EnvelopeFields {
  const out = { name: "", version: "", typeUrl: "", start: 0, end: 0, hasBody: false };
  while (r.pos < r.len) {
    const tag = r.tag();
    const no = tag >>> 3;
    if (no === 1) out.name = str(r);
    else if (no === 2) out.version = str(r);
    else if (no === 3) {
      out.hasBody = true;
      const end = r.uint32() + r.pos;
      while (r.pos < end) {
        const t = r.tag();
        const f = t >>> 3;
        if (f === 1) out.typeUrl = shared(r);
        else if (f === 2) {
          const len = r.length();
          out.start = r.pos;
          out.end = r.pos += len;
        } else skip(r, t, 2);
      }
    } else skip(r, tag, 1);
  }
  return out;
}

/** An ambientlab.v1.Resource message's fields, as fromBinary(ResourceSchema, bytes) reads them. */
export function resourceFieldsFromBinary(bytes: Uint8Array): ResourceFields {
  const e = envelope(new WireCursor(bytes));
  return { name: e.name, version: e.version, resource: e.hasBody ? { typeUrl: e.typeUrl, value: bytes.subarray(e.start, e.end) } : undefined };
}

/**
 * A Resource envelope read in place (a first sync reads 12,000 of them): its Address value is then read
 * with addressAt, from the same bytes, without a subarray or a second reader.
 */
export function envelopeFromBinary(bytes: Uint8Array): EnvelopeFields {
  return envelope(new WireCursor(bytes));
}

/** The envelope in bytes[start, end) (a resource left in its response's bytes); its ranges are offsets into `bytes`. */
export function envelopeAt(bytes: Uint8Array, start: number, end: number): EnvelopeFields {
  return envelope(new WireCursor(bytes, start, end));
}

/** The Address in an envelope's value: what addressFieldsFromBinary reads from resourceFieldsFromBinary(bytes).resource.value. */
export function addressAt(bytes: Uint8Array, e: EnvelopeFields): AddressFields {
  return address(new WireCursor(bytes, e.start, e.end), e.name);
}
