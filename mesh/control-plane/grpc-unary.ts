// One unary gRPC method served on node:http2's request and response directly: the certificate service, which every
// ztunnel and waypoint calls for every workload identity. Through connect's server a call cost the
// control plane ~1.7 ms of CPU on this machine, a third of it ours (the CSR check and the signature): the
// rest was per-call machinery (web Headers and streams built from node's, async generators, an
// AbortController per call aborted with a DOMException and its stack trace) and the garbage it left
// (issue 13: 413 certificates per second with 16 in flight, the target is 600). This handler reads the
// one length-prefixed message (bounded), runs the method, and writes the response and its trailers, as
// the gRPC over HTTP/2 protocol has them; connect's client (GrpcCaClient) and raw frames test it.
import type http2 from "node:http2";
import { Code, ConnectError } from "@connectrpc/connect";
import { describeError, encodeGrpcMessage } from "../shared/index.ts";
import type { Logger } from "../shared/index.ts";

export interface UnaryMethod<I> {
  /** "/package.Service/Method" */
  path: string;
  /** Largest request message accepted (RESOURCE_EXHAUSTED beyond it, without reading further). */
  maxRequestBytes: number;
  decode(bytes: Uint8Array): I;
  /** Handles a call; a ConnectError's code and message become the call's status. */
  handle(req: I, headers: http2.IncomingHttpHeaders): Promise<Uint8Array>;
}

/** Whether a request speaks gRPC (not the Connect protocol or gRPC-web, which share the path). */
export function isGrpc(headers: http2.IncomingHttpHeaders): boolean {
  return /^application\/grpc(\+proto)?(;|$)/.test(String(headers["content-type"] ?? ""));
}

const TIMEOUT_UNITS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000001 };

/** A grpc-timeout header ("100m", "5S") in milliseconds; Infinity if absent or malformed. */
export function timeoutMs(value: string | string[] | undefined): number {
  const m = typeof value === "string" ? /^(\d{1,8})([HMSmun])$/.exec(value) : null;
  return m ? Number(m[1]) * TIMEOUT_UNITS[m[2]!]! : Number.POSITIVE_INFINITY;
}

export function respondStatus(res: http2.Http2ServerResponse, code: Code | 0, message: string, extra: http2.OutgoingHttpHeaders = {}): void {
  if (res.stream.destroyed || res.headersSent) return;
  // Trailers-only: the status in the one HEADERS frame that ends the stream.
  res.writeHead(200, { "content-type": "application/grpc", "grpc-status": String(code), "grpc-message": encodeGrpcMessage(message), ...extra });
  res.end();
}

/**
 * The checks every gRPC call takes before its method runs (here and in grpc-stream.ts): errors on either
 * side are the call's to report, a request that is not a gRPC POST gets 415, a compressed one
 * UNIMPLEMENTED. False when the call has been answered.
 */
export function admitGrpcCall(req: http2.Http2ServerRequest, res: http2.Http2ServerResponse): boolean {
  const headers = req.headers;
  req.on("error", () => undefined);
  res.on("error", () => undefined);
  if (headers[":method"] !== "POST" || !isGrpc(headers)) {
    if (!res.headersSent) res.writeHead(415, { "content-type": "text/plain" }).end();
    return false;
  }
  const encoding = headers["grpc-encoding"];
  if (encoding !== undefined && encoding !== "identity") {
    // No compression here (peers are in the cluster; see grpc-server.ts).
    respondStatus(res, Code.Unimplemented, `grpc-encoding ${String(encoding)} is not supported`, { "grpc-accept-encoding": "identity" });
    return false;
  }
  return true;
}

/** Serves one call of `method`. Never throws: every failure is the call's status. */
export function serveUnary<I>(req: http2.Http2ServerRequest, res: http2.Http2ServerResponse, method: UnaryMethod<I>, log: Logger): void {
  if (!admitGrpcCall(req, res)) return;
  const headers = req.headers;
  const chunks: Buffer[] = [];
  let received = 0;
  let refused = false;
  // The client's deadline (grpc-timeout), at most 30 s: a call whose request never ends is not held forever.
  const timer = setTimeout(() => refuse(Code.DeadlineExceeded, "the call's deadline passed"), Math.min(timeoutMs(headers["grpc-timeout"]), 30_000));
  timer.unref();
  res.once("close", () => clearTimeout(timer));
  const refuse = (code: Code, message: string) => {
    if (refused) return;
    refused = true;
    clearTimeout(timer);
    respondStatus(res, code, message);
    // Whatever else the peer would send is not read: the stream is reset once the status is out.
    if (!req.complete) req.stream.close();
  };
  req.on("data", (chunk: Buffer) => {
    if (refused) return;
    received += chunk.length;
    if (received > method.maxRequestBytes + 5) {
      refuse(Code.ResourceExhausted, `request larger than ${method.maxRequestBytes} bytes`);
      return;
    }
    chunks.push(chunk);
  });
  req.on("end", () => {
    if (refused) return;
    const body = Buffer.concat(chunks, received);
    if (body.length < 5) return refuse(Code.Internal, "the request has no length-prefixed message");
    const flags = body[0]!;
    const length = body.readUInt32BE(1);
    if (flags & 1) return refuse(Code.Internal, "a compressed message without grpc-encoding");
    if (length > method.maxRequestBytes) return refuse(Code.ResourceExhausted, `request larger than ${method.maxRequestBytes} bytes`);
    if (body.length !== 5 + length) return refuse(Code.Unimplemented, "a unary call takes exactly one message");
    let decoded: I;
    try {
      decoded = method.decode(body.subarray(5));
    } catch (err) {
      return refuse(Code.Internal, `the request message does not decode: ${describeError(err)}`);
    }
    method.handle(decoded, headers).then(
      (out) => {
        if (res.stream.destroyed || refused) return;
        clearTimeout(timer);
        const prefix = Buffer.allocUnsafe(5);
        prefix[0] = 0;
        prefix.writeUInt32BE(out.length, 1);
        res.writeHead(200, { "content-type": "application/grpc" });
        res.addTrailers({ "grpc-status": "0" });
        res.end(Buffer.concat([prefix, out]));
      },
      (err: unknown) => {
        const e = err instanceof ConnectError ? err : undefined;
        if (!e) log.error({ err: describeError(err), path: method.path }, "gRPC method failed");
        refuse(e?.code ?? Code.Internal, e ? e.rawMessage : "internal error");
      },
    );
  });
}
