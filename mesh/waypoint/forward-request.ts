// A request as the forwarders send it upstream, and how it ended: built from either HTTP version's
// request headers, with hop-by-hop headers dropped (RFC 9110 7.6.1), the route's header modifier
// applied, and the request id and forwarded protocol Istio adds.
import { randomUUID } from "node:crypto";
import type { Readable } from "node:stream";
import type { HeaderModifier } from "../proxy/index.ts";
import type { HeaderValues } from "./downstream.ts";
import type { HttpResponseFlag } from "./telemetry.ts";

export interface ForwardRequest {
  method: string;
  /** Path and query, as the client sent them. */
  path: string;
  /** The client's Host or :authority. */
  authority: string;
  /** Lower-case names, no pseudo-headers, no hop-by-hop headers, no Host (each forwarder adds its own form); the forwarder's to change. */
  headers: HeaderValues;
  /** The request body, or null when the request has none. */
  body: Readable | null;
  /** A gRPC call (content-type application/grpc...): local answers become gRPC statuses. */
  grpc: boolean;
}

export interface Forwarded {
  code: number;
  flag: HttpResponseFlag;
  detail: string;
  bytes: number;
  /** The grpc-status the upstream answered with, if any. */
  grpcStatus?: string | undefined;
  /** Nothing reached the client yet: the caller answers it locally with `code`. */
  local?: true;
}

// Hop-by-hop headers end at the waypoint, as do HTTP/2's pseudo-headers (rebuilt per hop).
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "te",
  "trailer",
  "upgrade",
  "proxy-authorization",
  "proxy-authenticate",
  "http2-settings",
  "host",
]);

/** The request's end-to-end headers, modified by the route. `te: trailers` survives (gRPC needs it; HTTP/2 allows only that value). */
export function forwardHeaders(h: Readonly<Record<string, string | string[] | undefined>>, mod: HeaderModifier | undefined): HeaderValues {
  const out: HeaderValues = {};
  // Expect ends here too: node's server has already sent the client its 100 Continue.
  for (const k in h) {
    const v = h[k];
    if (v !== undefined && !HOP_BY_HOP.has(k) && k !== "expect" && k[0] !== ":") out[k] = v;
  }
  if (String(h.te ?? "").toLowerCase() === "trailers") out.te = "trailers";
  if (mod) applyHeaderModifier(out, mod);
  out["x-request-id"] ??= randomUUID();
  out["x-forwarded-proto"] ??= "http";
  return out;
}

/** HTTPRoute's RequestHeaderModifier / ResponseHeaderModifier, in place: set, then add, then remove. */
export function applyHeaderModifier(out: HeaderValues, mod: HeaderModifier): HeaderValues {
  for (const [k, v] of Object.entries(mod.set)) out[k] = v;
  // Appended to the value as one comma-separated list (RFC 9110 5.3), as the conformance suite expects.
  for (const [k, v] of Object.entries(mod.add)) out[k] = out[k] === undefined ? v : `${[out[k]].flat().join(",")},${v}`;
  for (const k of mod.remove) delete out[k];
  return out;
}

/** A response's (or trailers') end-to-end headers. */
export function responseHeaders(h: HeaderValues | null | undefined): HeaderValues {
  const out: HeaderValues = {};
  for (const k in h) {
    const v = h[k];
    if (v !== undefined && !HOP_BY_HOP.has(k) && k[0] !== ":") out[k] = v;
  }
  return out;
}
