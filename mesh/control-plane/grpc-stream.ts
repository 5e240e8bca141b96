// One bidirectional streaming gRPC method served on node:http2's request and response directly: the
// config stream. Through connect's server every response was serialized into fresh memory and copied
// once more into its gRPC envelope, per proxy, and a whole-config response is several MB (issue 13:
// half the control plane's CPU in a 10-proxy sync); here each response goes out as the pieces the
// method encodes it to (api/ads-encoded.ts responseChunks), the shared resource bytes written as they
// are. Requests are length-prefixed messages read as they arrive (each bounded), responses wait for the
// stream to drain, and whatever ends the call (the client, an error, the server) ends the handler too.
import type http2 from "node:http2";
import { Code, ConnectError } from "@connectrpc/connect";
import { AsyncQueue, describeError, encodeGrpcMessage, MessageReader } from "../shared/index.ts";
import type { Logger } from "../shared/index.ts";
import { admitGrpcCall, respondStatus, timeoutMs } from "./grpc-unary.ts";

export interface StreamMethod<I, O> {
  /** "/package.Service/Method" */
  path: string;
  /** Largest request message accepted (RESOURCE_EXHAUSTED beyond it). */
  maxRequestBytes: number;
  decode(bytes: Uint8Array): I;
  /** A response as pieces whose concatenation is its wire form; they are written, never copied. */
  encode(out: O): Uint8Array[];
  /** The call: requests in, responses out; a ConnectError's code and message become the call's status. */
  handle(requests: AsyncIterable<I>, headers: http2.IncomingHttpHeaders): AsyncIterable<O>;
}

/** Requests decoded but not yet taken by the handler before the client is no longer read. */
const MAX_QUEUED_REQUESTS = 16;

/** Serves one call of `method`. Never throws: every failure is the call's status. */
export function serveStream<I, O>(req: http2.Http2ServerRequest, res: http2.Http2ServerResponse, method: StreamMethod<I, O>, log: Logger): void {
  if (!admitGrpcCall(req, res)) return;
  const headers = req.headers;
  const requests = new AsyncQueue<I>();
  const reader = new MessageReader(method.maxRequestBytes);
  let over = false;
  let drained: (() => void) | undefined;
  // 0 is OK, which connect's Code does not name.
  const finish = (code: Code | 0, message: string) => {
    if (over) return;
    over = true;
    clearTimeout(timer);
    requests.close();
    drained?.();
    if (res.stream.destroyed) return;
    if (!res.headersSent) {
      respondStatus(res, code, message);
      // What the client would still send is not read once the status is out.
      if (!req.complete) req.stream.close();
      return;
    }
    res.addTrailers({ "grpc-status": String(code), ...(code === 0 ? {} : { "grpc-message": encodeGrpcMessage(message) }) });
    res.end();
    // The trailers go out after the last DATA frame; a reset now would overtake them. A client that keeps
    // its side open after the status loses the stream a second later.
    if (!req.complete) setTimeout(() => res.stream.destroyed || res.stream.close(), 1000).unref();
  };
  // A deadline only if the client set one: config streams live as long as their proxies.
  const deadline = timeoutMs(headers["grpc-timeout"]);
  const timer = Number.isFinite(deadline) ? setTimeout(() => finish(Code.DeadlineExceeded, "the call's deadline passed"), deadline) : undefined;
  timer?.unref();
  // The client gone (reset, or the connection closed): the handler sees its requests end.
  res.once("close", () => {
    over = true;
    clearTimeout(timer);
    requests.close();
    drained?.();
  });
  req.on("data", (chunk: Buffer) => {
    if (over) return;
    const got = reader.push(chunk);
    if ("error" in got) return finish(got.error.code, got.error.rawMessage);
    for (const bytes of got) {
      try {
        requests.push(method.decode(bytes));
      } catch (err) {
        return finish(Code.Internal, `a request message does not decode: ${describeError(err)}`);
      }
    }
    if (requests.length >= MAX_QUEUED_REQUESTS) req.pause();
  });
  req.on("end", () => {
    if (reader.pending > 0) return finish(Code.Internal, "the request stream ended inside a message");
    requests.close();
  });
  const pulled = async function* (): AsyncGenerator<I> {
    for await (const r of requests) {
      if (req.isPaused() && requests.length < MAX_QUEUED_REQUESTS / 2) req.resume();
      yield r;
    }
  };
  void (async () => {
    for await (const out of method.handle(pulled(), headers)) {
      if (over) break;
      if (!res.headersSent) res.writeHead(200, { "content-type": "application/grpc" });
      const chunks = method.encode(out);
      const length = chunks.reduce((n, c) => n + c.length, 0);
      const prefix = Buffer.allocUnsafe(5);
      prefix[0] = 0;
      prefix.writeUInt32BE(length, 1);
      let ok = res.write(prefix);
      for (const c of chunks) ok = res.write(c);
      if (!ok && !over) await new Promise<void>((r) => ((drained = r), res.once("drain", r)));
      drained = undefined;
    }
    finish(0, "");
  })().catch((err: unknown) => {
    const e = err instanceof ConnectError ? err : undefined;
    if (!e) log.error({ err: describeError(err), path: method.path }, "gRPC stream failed");
    finish(e?.code ?? Code.Internal, e ? e.rawMessage : "internal error");
  });
}
