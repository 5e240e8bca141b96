// Config resources (Resource envelopes and Address values) read straight from the wire. A proxy's first
// sync decodes every workload and service in the cluster (10,000 pods: 12,000 resources), and the
// reflective decoder (fromBinary + anyUnpack) spent ~50 us on each creating and filling generic
// message objects: 0.5 s of CPU per proxy, times every proxy on a node's cores (issue 13). These
// readers walk the same bytes with the library's BinaryReader into plain objects of the same shape,
// following fromBinary's rules exactly (fields dispatched by number and read by their declared type,
// the last scalar wins, repeated fields append, a repeated message field or oneof case merges, map
// entries default a missing key or value, unknown fields skipped); wire-read.test.ts holds them equal
// to fromBinary on generated and on corrupted messages. Validation stays in addressFromProto.
import { BinaryReader } from "@bufbuild/protobuf/wire";
import type { AddressFields, GatewayFields, PortFields, ServiceFields, WorkloadFields } from "./convert.ts";

/** A Resource of the config stream: its value is an Any (`typeUrl`, encoded `value`), absent if not sent. */
export interface ResourceFields {
  name: string;
  version: string;
  resource: { typeUrl: string; value: Uint8Array } | undefined;
}

/** fromBinary's default recursion limit: what is left of it bounds how deep an unknown group is skipped. */
const RECURSION_LIMIT = 100;

type Reader = BinaryReader;

/**
 * Reads a length-delimited message (its length comes next) at nesting `depth` (the Address is 1),
 * calling `field` per record; a record it does not take is skipped.
 */
function message(r: Reader, depth: number, field: (no: number) => boolean): void {
  const end = r.uint32() + r.pos;
  body(r, end, depth, field);
}

function body(r: Reader, end: number, depth: number, field: (no: number) => boolean): void {
  while (r.pos < end) {
    const [no, wireType] = r.tag();
    if (!field(no)) r.skip(wireType, no, RECURSION_LIMIT - depth);
  }
}

const str = (r: Reader) => r.string(true);

function gateway(r: Reader, depth: number, into: GatewayFields | undefined): GatewayFields {
  const g = into ?? { hostname: "", namespace: "", hbonePort: 0 };
  message(r, depth, (no) => {
    if (no === 1) g.hostname = str(r);
    else if (no === 2) g.namespace = str(r);
    else if (no === 3) g.hbonePort = r.uint32();
    else return false;
    return true;
  });
  return g;
}

function port(r: Reader, depth: number): PortFields {
  const p = { servicePort: 0, targetPort: 0 };
  message(r, depth, (no) => {
    if (no === 1) p.servicePort = r.uint32();
    else if (no === 2) p.targetPort = r.uint32();
    else return false;
    return true;
  });
  return p;
}

function portList(r: Reader, depth: number, into: { ports: PortFields[] } | undefined): { ports: PortFields[] } {
  const l = into ?? { ports: [] };
  message(r, depth, (no) => {
    if (no !== 1) return false;
    l.ports.push(port(r, depth + 1));
    return true;
  });
  return l;
}

/**
 * One entry of map<string, PortList>: a missing key is "", a missing value an empty list. An entry is
 * not a nesting level of its own (`depth` is the workload's); its value is.
 */
function servicesEntry(r: Reader, depth: number, into: Record<string, { ports: PortFields[] }>): void {
  let key: string | undefined;
  let value: { ports: PortFields[] } | undefined;
  message(r, depth, (no) => {
    if (no === 1) key = str(r);
    else if (no === 2) value = portList(r, depth + 1, value);
    else return false;
    return true;
  });
  into[key ?? ""] = value ?? { ports: [] };
}

function workload(r: Reader, depth: number, into: WorkloadFields | undefined): WorkloadFields {
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
  message(r, depth, (no) => {
    switch (no) {
      case 1:
        w.uid = str(r);
        break;
      case 2:
        w.name = str(r);
        break;
      case 3:
        w.namespace = str(r);
        break;
      case 4:
        w.addresses.push(str(r));
        break;
      case 5:
        w.trustDomain = str(r);
        break;
      case 6:
        w.serviceAccount = str(r);
        break;
      case 7:
        w.node = str(r);
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
        w.authorizationPolicies.push(str(r));
        break;
      case 12:
        w.canonicalName = str(r);
        break;
      case 13:
        w.canonicalRevision = str(r);
        break;
      case 14:
        w.workloadName = str(r);
        break;
      case 15:
        w.waypoint = gateway(r, depth + 1, w.waypoint);
        break;
      case 16:
        w.clusterId = str(r);
        break;
      case 17:
        w.nativeHbone = r.bool();
        break;
      default:
        return false;
    }
    return true;
  });
  return w;
}

function service(r: Reader, depth: number, into: ServiceFields | undefined): ServiceFields {
  const s: ServiceFields = into ?? { name: "", namespace: "", hostname: "", vips: [], ports: [], waypoint: undefined };
  message(r, depth, (no) => {
    switch (no) {
      case 1:
        s.name = str(r);
        break;
      case 2:
        s.namespace = str(r);
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
        return false;
    }
    return true;
  });
  return s;
}

/** An ambientlab.v1.Address message's fields, as fromBinary(AddressSchema, bytes) reads them. */
export function addressFieldsFromBinary(bytes: Uint8Array): AddressFields {
  const r = new BinaryReader(bytes);
  let type: AddressFields["type"] = { case: undefined };
  body(r, bytes.byteLength, 1, (no) => {
    if (no === 1) type = { case: "workload", value: workload(r, 2, type.case === "workload" ? type.value : undefined) };
    else if (no === 2) type = { case: "service", value: service(r, 2, type.case === "service" ? type.value : undefined) };
    else return false;
    return true;
  });
  return { type };
}

/** An ambientlab.v1.Resource message's fields, as fromBinary(ResourceSchema, bytes) reads them. */
export function resourceFieldsFromBinary(bytes: Uint8Array): ResourceFields {
  const r = new BinaryReader(bytes);
  const out: ResourceFields = { name: "", version: "", resource: undefined };
  body(r, bytes.byteLength, 1, (no) => {
    if (no === 1) out.name = str(r);
    else if (no === 2) out.version = str(r);
    else if (no === 3) {
      const any = out.resource ?? { typeUrl: "", value: new Uint8Array(0) };
      message(r, 2, (f) => {
        if (f === 1) any.typeUrl = str(r);
        else if (f === 2) any.value = r.bytes();
        else return false;
        return true;
      });
      out.resource = any;
    } else return false;
    return true;
  });
  return out;
}
