// A workload read from the wire straight into the proxies' model, for the encoding a control plane
// writes: each singular field once, map entries with one key and one value, ports in ascending order,
// no field this build does not know, and valid values. A first sync reads every workload of the cluster
// (10,000 pods), and the general path builds each twice (the message's fields, then the Workload, with
// a dictionary and a Map per pod): collection was a third of a first sync, and the heap stood at 58 MB
// at its end (issue 13). Here each workload is one object, and the services maps, which every pod of a service
// shares, are shared objects (they are read-only). Only what the proxy's indexes need is built on arrival
// (uid, IPs, node, protocol, status, services, waypoint); the other fields are checked here and built on
// first use from the same bytes (lazy-workload.ts), which must therefore not change afterwards.
//
// Anything else (a repeated singular field, which fromBinary merges; an unknown field; a value the
// validation refuses) returns undefined, and the caller takes the general path (wire-read.ts, then
// addressFromProto), which merges, defaults and refuses exactly as fromBinary and the validation do.
// wire-read.test.ts ("workloadAt") holds the two paths equal on generated, merged and corrupted messages.
import net from "node:net";
import { WireType } from "@bufbuild/protobuf/wire";
import { TunnelProtocol, WorkloadStatus } from "./gen/ambientlab/v1/workload_pb.js";
import type { PortMap, WaypointRef, Workload } from "./types.ts";
import type { EnvelopeFields } from "./wire-read.ts";
import { WireCursor } from "./wire-cursor.ts";
import { LazyWorkload } from "./lazy-workload.ts";

const LEN = WireType.LengthDelimited;
const VARINT = WireType.Varint;

/** Values keyed by the bytes they were read from; cleared when full, so a peer cannot grow it. */
class ByteIntern<V> {
  private readonly max: number;
  private readonly entries = new Map<number, { bytes: Uint8Array; value: V }>();

  constructor(max: number) {
    this.max = max;
  }

  get size(): number {
    return this.entries.size;
  }

  get(buf: Uint8Array, start: number, end: number, make: () => V): V {
    let hash = 0x811c9dc5;
    for (let i = start; i < end; i++) hash = Math.imul(hash ^ buf[i]!, 0x01000193);
    const key = (hash ^ (end - start)) >>> 0;
    const known = this.entries.get(key);
    if (known && sameBytes(known.bytes, buf, start, end)) return known.value;
    const value = make();
    if (this.entries.size >= this.max) this.entries.clear();
    // A copy: the key must not hold the whole response's buffer.
    this.entries.set(key, { bytes: buf.slice(start, end), value });
    return value;
  }
}

function sameBytes(a: Uint8Array, buf: Uint8Array, start: number, end: number): boolean {
  if (a.length !== end - start) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== buf[start + i]) return false;
  return true;
}

const INTERN_MAX_ENTRIES = 4096;
const portMaps = new ByteIntern<PortMap>(INTERN_MAX_ENTRIES);
const serviceMaps = new ByteIntern<ReadonlyMap<string, PortMap>>(INTERN_MAX_ENTRIES);
const NO_SERVICES: ReadonlyMap<string, PortMap> = new Map();

/** How many values the intern tables hold (for tests: never more than their bound each). */
export function workloadInternSize(): number {
  return portMaps.size + serviceMaps.size;
}
export { INTERN_MAX_ENTRIES as WORKLOAD_INTERN_MAX_ENTRIES };

/** Thrown inside this module only: the message is not in the form this reader takes. */
const NOT_CANONICAL = new Error("not canonical");

function fail(): never {
  throw NOT_CANONICAL;
}

/** Reads a nested message's length and returns its end; the caller checks it ends exactly there. */
function open(r: WireCursor): number {
  return r.length() + r.pos;
}

function closeAt(r: WireCursor, end: number): void {
  if (r.pos !== end) fail();
}

/** A Port message as portMapFrom takes it: 1..65535 and 0..65535; appProtocol is read and not kept. */
function portInto(r: WireCursor, out: Map<number, number>, last: number): number {
  const end = open(r);
  let servicePort = 0;
  let targetPort = 0;
  let seen = 0;
  while (r.pos < end) {
    const tag = r.tag();
    const no = tag >>> 3;
    if ((tag & 7) !== VARINT || no < 1 || no > 3 || seen & (1 << no)) fail();
    seen |= 1 << no;
    if (no === 1) servicePort = r.uint32();
    else if (no === 2) targetPort = r.uint32();
    else r.int32();
  }
  closeAt(r, end);
  if (servicePort < 1 || servicePort > 65535 || targetPort > 65535 || servicePort <= last) fail();
  out.set(servicePort, targetPort);
  return servicePort;
}

/** A PortList message (the value of a services entry), in ascending order of service port; shared by its bytes. */
function portList(r: WireCursor): PortMap {
  const start = r.pos;
  const end = open(r);
  const map = portMaps.get(r.buf, start, end, () => {
    const out = new Map<number, number>();
    let last = 0;
    while (r.pos < end) {
      if (r.tag() !== ((1 << 3) | LEN)) fail();
      last = portInto(r, out, last);
    }
    closeAt(r, end);
    return out;
  });
  r.pos = end;
  return map;
}

/** One services entry (key 1, value 2, each once): its key and port map. */
function servicesEntry(r: WireCursor): [string, PortMap] {
  const end = open(r);
  let key: string | undefined;
  let ports: PortMap | undefined;
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === ((1 << 3) | LEN) && key === undefined) key = r.string(true);
    else if (tag === ((2 << 3) | LEN) && ports === undefined) ports = portList(r);
    else fail();
  }
  closeAt(r, end);
  // A missing key or value, or a key that orders like an array index (fromBinary reads the map into an
  // object, where such keys come first): the general path.
  if (key === undefined || ports === undefined || /^\d/.test(key)) fail();
  return [key, ports];
}

/** A GatewayAddress (the workload's waypoint): hostname 1, namespace 2, HBONE port 3, each once. */
function waypoint(r: WireCursor): WaypointRef | undefined {
  const end = open(r);
  let hostname = "";
  let namespace = "";
  let hbonePort = 0;
  let seen = 0;
  while (r.pos < end) {
    const tag = r.tag();
    const no = tag >>> 3;
    if (no < 1 || no > 3 || seen & (1 << no) || (tag & 7) !== (no === 3 ? VARINT : LEN)) fail();
    seen |= 1 << no;
    if (no === 1) hostname = r.string(true);
    else if (no === 2) namespace = r.string(true);
    else hbonePort = r.uint32();
  }
  closeAt(r, end);
  return hostname ? { hostname, namespace, hbonePort: hbonePort || 15008 } : undefined;
}

// The wire type of each Workload field (by number); 0 in slot 0 is unused.
const WORKLOAD_WIRE = [-1, LEN, LEN, LEN, LEN, LEN, LEN, LEN, VARINT, VARINT, LEN, LEN, LEN, LEN, LEN, LEN, LEN, VARINT];
// Fields that may repeat: addresses (4), services entries (10), authorization policies (11).
const REPEATED = (1 << 4) | (1 << 10) | (1 << 11);

function workload(r: WireCursor, uidHint: string): Workload {
  const end = open(r);
  const start = r.pos;
  let uid = "";
  let hasName = false;
  let hasNamespace = false;
  let ips: string[] | undefined;
  let node = "";
  let tunnelProtocol = 0;
  let status = 0;
  let services: ReadonlyMap<string, PortMap> | undefined;
  let entries: Map<string, PortMap> | undefined;
  let wp: WaypointRef | undefined;
  let nativeHbone = false;
  let seen = 0;
  while (r.pos < end) {
    const tag = r.tag();
    const no = tag >>> 3;
    if (no > 17 || (tag & 7) !== WORKLOAD_WIRE[no]) fail();
    const bit = 1 << no;
    if (seen & bit & ~REPEATED) fail();
    seen |= bit;
    switch (no) {
      case 1:
        uid = r.stringEquals(uidHint) ? uidHint : r.string();
        break;
      case 2:
        hasName = r.checkString() > 0;
        break;
      case 3:
        hasNamespace = r.checkString() > 0;
        break;
      case 4: {
        const ip = r.string();
        if (net.isIP(ip) === 0) fail();
        // [ip], not [] and push: an empty array's first push makes room for 17 (152 bytes a pod, kept).
        if (ips) ips.push(ip);
        else ips = [ip];
        break;
      }
      case 7:
        node = r.string(true);
        break;
      case 8:
        tunnelProtocol = r.int32();
        break;
      case 9:
        status = r.int32();
        break;
      case 10: {
        // The first entry is shared by its bytes (every pod of a service has the same one), read only
        // the first time they are seen; a second entry makes a map of this workload's own.
        if (!services) {
          const start = r.pos;
          const end = open(r);
          r.pos = start;
          services = serviceMaps.get(r.buf, start, end, () => new Map([servicesEntry(r)]));
          r.pos = end;
          break;
        }
        // A repeated key keeps its first place and takes the last value, as in fromBinary's object.
        const [key, ports] = servicesEntry(r);
        (entries ??= new Map(services)).set(key, ports);
        break;
      }
      case 15:
        wp = waypoint(r);
        break;
      case 17:
        nativeHbone = r.bool();
        break;
      default:
        // Read on first use (lazy-workload.ts): the name (2) and namespace (3) above, trust domain (5),
        // service account (6), policies (11), canonical name (12) and revision (13), workload name
        // (14); and the cluster's id (16), not part of the model. All must be UTF-8 as everywhere else.
        r.checkString();
    }
  }
  closeAt(r, end);
  if (!uid || !hasName || !hasNamespace || !node || !ips) fail();
  const w = new LazyWorkload(
    uid,
    ips,
    node,
    tunnelProtocol === TunnelProtocol.HBONE ? "HBONE" : "NONE",
    status === WorkloadStatus.UNHEALTHY ? "Unhealthy" : "Healthy",
    entries ?? services ?? NO_SERVICES,
    r.buf,
    start,
    end,
  );
  if (wp) w.waypoint = wp;
  if (nativeHbone) w.nativeHbone = true;
  return w;
}

/**
 * The workload in an envelope's Address value when it is in the form a control plane writes and valid;
 * undefined for a service, or for anything the general path must read (it reads those the same way).
 */
export function workloadAt(bytes: Uint8Array, e: EnvelopeFields): Workload | undefined {
  const r = new WireCursor(bytes, e.start, e.end);
  try {
    if (r.pos >= r.len || r.tag() !== ((1 << 3) | LEN)) return undefined;
    const w = workload(r, e.name);
    return r.pos === r.len ? w : undefined;
  } catch {
    return undefined;
  }
}
