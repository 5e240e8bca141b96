// A config stream response (DeltaDiscoveryResponseEncoded) read with its resources left where they are:
// one list of [start, end) offsets into the message's own bytes instead of a Uint8Array view per resource.
// A first sync's response holds 12,500 resources; fromBinary made a view object for each, which lived
// through the whole response's reading and so was copied by every collection on the way (issue 13). The
// rules are fromBinary's (fields by number, read by their declared type, the last scalar wins, repeated
// fields append, unknown fields skipped); wire-response.test.ts holds the two equal on generated and
// corrupted messages.
import { WireCursor } from "./wire-cursor.ts";

/** What the config stream client reads of a response. */
export interface ConfigResponse {
  systemVersionInfo: string;
  typeUrl: string;
  nonce: string;
  removedResources: string[];
  /** The message's bytes: resource i (an encoded Resource) is bytes[ranges[2i], ranges[2i + 1]). */
  bytes: Uint8Array;
  ranges: number[];
}

/** fromBinary's default recursion limit, for skipping unknown groups. */
const RECURSION_LIMIT = 100;

export function configResponseFromBinary(bytes: Uint8Array): ConfigResponse {
  const r = new WireCursor(bytes);
  const out: ConfigResponse = { systemVersionInfo: "", typeUrl: "", nonce: "", removedResources: [], bytes, ranges: [] };
  while (r.pos < r.len) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 1:
        out.systemVersionInfo = r.string();
        break;
      case 2:
        out.typeUrl = r.string(true);
        break;
      case 3: {
        const len = r.length();
        out.ranges.push(r.pos, (r.pos += len));
        break;
      }
      case 4:
        out.removedResources.push(r.string());
        break;
      case 5:
        out.nonce = r.string();
        break;
      default:
        r.skip(tag & 7, tag >>> 3, RECURSION_LIMIT - 1);
    }
  }
  return out;
}

/** A response's resources as views (for tests and tools; the client reads the ranges in place). */
export function resourcesOf(resp: Pick<ConfigResponse, "bytes" | "ranges">): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < resp.ranges.length; i += 2) out.push(resp.bytes.subarray(resp.ranges[i], resp.ranges[i + 1]));
  return out;
}
