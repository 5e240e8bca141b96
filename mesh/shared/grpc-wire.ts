// Pieces of the gRPC over HTTP/2 protocol that both the control plane (which serves gRPC) and the
// waypoint (which answers gRPC calls it refuses) need.

/** grpc-message is percent-encoded (the gRPC HTTP/2 protocol: printable ASCII except "%" stays as is). */
export function encodeGrpcMessage(message: string): string {
  let out = "";
  for (const b of Buffer.from(message, "utf8")) {
    out += b >= 0x20 && b <= 0x7e && b !== 0x25 ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/**
 * The gRPC status for an HTTP status a proxy answers with itself, as gRPC's "HTTP to gRPC status code
 * mapping" has them (and Envoy applies to its local replies): 400 INTERNAL, 401 UNAUTHENTICATED,
 * 403 PERMISSION_DENIED, 404 UNIMPLEMENTED, 429 and 502-504 UNAVAILABLE, anything else UNKNOWN.
 */
export function grpcStatusForHttp(code: number): number {
  switch (code) {
    case 400:
      return 13;
    case 401:
      return 16;
    case 403:
      return 7;
    case 404:
      return 12;
    case 429:
    case 502:
    case 503:
    case 504:
      return 14;
    default:
      return 2;
  }
}

/** Whether a content-type is gRPC's (application/grpc, +proto, +json...), not gRPC-web's. */
export function isGrpcContentType(value: string | string[] | undefined): boolean {
  return typeof value === "string" && /^application\/grpc(\+[a-z0-9.-]+)?(;|$)/i.test(value);
}
