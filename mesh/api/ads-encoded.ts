// The config stream as the control plane serves it: responses carry resources encoded once, when they
// change (DeltaDiscoveryResponseEncoded in discovery.proto, wire-identical to DeltaDiscoveryResponse), so a
// push to N proxies copies bytes N times instead of encoding every resource N times.
import { create, toBinary } from "@bufbuild/protobuf";
import { WireType } from "@bufbuild/protobuf/wire";
import {
  AggregatedDiscoveryService,
  DeltaDiscoveryResponseEncodedSchema,
  ResourceSchema,
  type DeltaDiscoveryResponseEncoded,
} from "./gen/ambientlab/v1/discovery_pb.js";

/** DeltaAggregatedResources with the encoded response type: the same service, method and path. */
export const DELTA_AGGREGATED_RESOURCES_ENCODED = {
  ...AggregatedDiscoveryService.method.deltaAggregatedResources,
  output: DeltaDiscoveryResponseEncodedSchema,
};

/** Its HTTP/2 path, which the control plane serves and the proxies call without connect (grpc-stream.ts, stream-client.ts). */
export const DELTA_AGGREGATED_RESOURCES_PATH = `/${AggregatedDiscoveryService.typeName}/${AggregatedDiscoveryService.method.deltaAggregatedResources.name}`;

/** One Resource message (name, version, the value as an Any of `typeUrl`), for DeltaDiscoveryResponseEncoded.resources. */
export function encodeResource(name: string, version: string, typeUrl: string, value: Uint8Array): Uint8Array {
  return toBinary(ResourceSchema, create(ResourceSchema, { name, version, resource: { typeUrl, value } }));
}

/** DeltaDiscoveryResponseEncoded.resources' field number. */
const RESOURCES_FIELD = 3;

/**
 * Encoded resources joined into the wire form of the repeated `resources` field, less its first tag. A
 * whole-config response carries every resource (12,000 for 10,000 pods), and the library writes a repeated
 * bytes field one small copy at a time (~3 us each): joined once per snapshot, every fresh proxy's
 * response is one copy of one buffer. The buffer is sized first and filled once: joining through the
 * library's writer copied the 3 MB three times as it grew, into fresh memory each time, 70-150 ms of the
 * control plane's CPU in each 10-proxy sync here (a CPU profile of bench:control-plane, issue 13).
 */
export function joinResources(encoded: readonly Uint8Array[]): Uint8Array {
  let size = 0;
  for (let i = 0; i < encoded.length; i++) size += (i > 0 ? 1 : 0) + varintLength(encoded[i]!.length) + encoded[i]!.length;
  const out = new Uint8Array(size);
  let at = 0;
  for (let i = 0; i < encoded.length; i++) {
    const bytes = encoded[i]!;
    if (i > 0) out[at++] = RESOURCES_TAG;
    for (let n = bytes.length; ; n >>>= 7) {
      if (n <= 0x7f) {
        out[at++] = n;
        break;
      }
      out[at++] = (n & 0x7f) | 0x80;
    }
    out.set(bytes, at);
    at += bytes.length;
  }
  return out;
}

/** The tag of one `resources` entry: field 3, length-delimited (one byte). */
const RESOURCES_TAG = (RESOURCES_FIELD << 3) | WireType.LengthDelimited;

function varintLength(n: number): number {
  let len = 1;
  while (n > 0x7f) {
    n >>>= 7;
    len++;
  }
  return len;
}

/**
 * A response whose resources are `joined` (joinResources). They ride as the message's unknown-field
 * bytes for field 3, which protobuf-es writes verbatim after its tag (toBinary's writeUnknownFields, on
 * by default): on the wire, exactly the repeated field (ads-encoded.test.ts reads it back).
 */
export function withJoinedResources(resp: DeltaDiscoveryResponseEncoded, joined: Uint8Array): DeltaDiscoveryResponseEncoded {
  if (resp.resources.length) throw new Error("withJoinedResources: the response already lists resources");
  if (joined.length) resp.$unknown = [{ no: RESOURCES_FIELD, wireType: WireType.LengthDelimited, data: joined }];
  return resp;
}

/** A varint (an unsigned 32-bit value), as protobuf writes tags and lengths. */
function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return out;
}

/**
 * A response's wire form as pieces that, joined, are exactly toBinary(resp): its own fields, then each
 * unknown field's tag and bytes, the joined resources among them, which are handed on as they are. A
 * whole-config response is one shared buffer of several MB sent to every fresh proxy: toBinary copied it
 * three times per proxy (the writer's growth, its bytes, finish) and gRPC's envelope once more, each copy
 * into fresh memory (~0.5 s of the control plane's CPU in a 10-proxy sync on this machine, issue 13).
 */
export function responseChunks(resp: DeltaDiscoveryResponseEncoded): Uint8Array[] {
  const own = toBinary(DeltaDiscoveryResponseEncodedSchema, resp, { writeUnknownFields: false });
  const unknown = resp.$unknown ?? [];
  if (!unknown.length) return [own];
  const chunks: Uint8Array[] = [];
  let head = [...own];
  for (const u of unknown) {
    // The library keeps a length-delimited unknown field's length prefix inside `data`.
    head = head.concat(varint(((u.no << 3) | u.wireType) >>> 0));
    chunks.push(Uint8Array.from(head), u.data);
    head = [];
  }
  return chunks;
}
