// A bidirectional streaming gRPC call made on node:http2 directly: the proxies' side of the config
// stream, as the control plane serves it (control-plane/grpc-stream.ts). Through connect's client (2.1.2)
// a first sync's several-MB response cost a proxy ~110 ms of CPU before any resource was read: its
// envelope reader re-summed every buffered piece for each of the ~770 pieces that arrived, then copied
// them into fresh memory, through layers of web streams and async generators (issue 13). Here the pieces
// are held until a message is complete and joined once (shared/grpc-messages.ts), and HTTP/2's windows
// are sized for what the sender's copies cost (WINDOW_BYTES). Everything the peer can make us hold
// is bounded: one message (maxResponseBytes), the stream's window, and the decoded messages not yet taken
// (the stream is paused while MAX_QUEUED wait).
import http2 from "node:http2";
import type tls from "node:tls";
import { Code, ConnectError } from "@connectrpc/connect";
import { AsyncQueue, grpcStatusForHttp, isGrpcContentType, MessageReader } from "../../shared/index.ts";

export interface StreamEndpoint {
  /** https://host:port, or http://host:port for a plaintext peer (tests). */
  address: string;
  /** How the server is verified (the trust bundle, the identity it must present). */
  tls?: Pick<tls.ConnectionOptions, "ca" | "minVersion" | "checkServerIdentity">;
  /** Headers for each call, produced as it opens (a bearer token read from its file then). */
  headers?: () => Promise<Record<string, string>>;
  /** Largest response message accepted (RESOURCE_EXHAUSTED beyond it). */
  maxResponseBytes?: number;
  /** How long connecting may take before the call fails as UNAVAILABLE. */
  connectTimeoutMs?: number;
}

export interface StreamCall<I, O> {
  /** "/package.Service/Method" */
  path: string;
  encode(message: I): Uint8Array;
  decode(bytes: Uint8Array): O;
}

/**
 * A whole-config response for 50,000 pods is ~17 MB; the bound is there so that no peer, broken or not,
 * makes a proxy buffer without end.
 */
export const DEFAULT_MAX_RESPONSE_BYTES = 128 * 1024 * 1024;
/**
 * How much the peer may send before we read it (both the stream's and the connection's window). Not the
 * whole response: node's HTTP/2 copies everything the window lets it send at once into one fresh buffer
 * (StreamBase::Write), and a fresh multi-MB buffer is paid in page faults and in major collections that
 * its external memory sets off. Measured on this project's 2-vCPU VM, ten 3.3 MB responses over TLS cost
 * the sender 205 ms of CPU with a 4 MB window, 90 with 1 MB, 60 with 256 KB or 128 KB and 63 with the
 * default 64 KB, which the receiver then paid for in window updates (~20 % more CPU than with 256 KB).
 */
const WINDOW_BYTES = 256 * 1024;
/** Decoded responses waiting for the consumer before the stream is paused. */
const MAX_QUEUED = 4;

/** grpc-message is percent-encoded; a malformed one is shown as it came. */
function grpcMessage(value: unknown): string {
  const raw = typeof value === "string" ? value : "";
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/**
 * Makes one call: `requests` are sent as they come, responses are yielded as they complete. The call
 * ends when the server ends it (status OK: the iteration ends; any other status: it throws a
 * ConnectError with the server's code and message), when `signal` aborts (CANCELED), or when the
 * consumer stops iterating (the stream is reset). Connection and protocol failures throw ConnectErrors
 * too, with the address in the message.
 */
export async function* callStream<I, O>(ep: StreamEndpoint, call: StreamCall<I, O>, requests: AsyncIterable<I>, signal: AbortSignal): AsyncGenerator<O> {
  signal.throwIfAborted();
  const extra = (await ep.headers?.()) ?? {};
  const out = new AsyncQueue<O>();
  let settled = false;
  const settle = (err?: ConnectError) => {
    if (settled) return;
    settled = true;
    if (err) out.fail(err);
    else out.close();
  };
  const session = http2.connect(ep.address, { ...ep.tls, settings: { initialWindowSize: WINDOW_BYTES, enablePush: false } });
  const connectTimer = setTimeout(
    () => settle(new ConnectError(`no connection to ${ep.address} within ${ep.connectTimeoutMs ?? 10_000} ms`, Code.Unavailable)),
    ep.connectTimeoutMs ?? 10_000,
  );
  session.once("connect", () => {
    clearTimeout(connectTimer);
    session.setLocalWindowSize(WINDOW_BYTES);
  });
  session.on("error", (err: Error) =>
    settle(new ConnectError(`connection to ${ep.address} failed: ${err.message}`, Code.Unavailable, undefined, undefined, err)),
  );
  const stream = session.request({ ":method": "POST", ":path": call.path, "content-type": "application/grpc", te: "trailers", ...extra });
  const reader = new MessageReader(ep.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES, "response");
  let status: { code: number; message: string } | undefined;
  const takeStatus = (h: http2.IncomingHttpHeaders) => {
    if (h["grpc-status"] !== undefined) status = { code: Number(h["grpc-status"]), message: grpcMessage(h["grpc-message"]) };
  };
  stream.on("response", (h) => {
    const code = Number(h[":status"]);
    if (code !== 200) return settle(new ConnectError(`${ep.address} answered HTTP ${code}`, grpcStatusForHttp(code)));
    if (!isGrpcContentType(h["content-type"])) return settle(new ConnectError(`${ep.address} answered ${String(h["content-type"])}, not gRPC`, Code.Unknown));
    takeStatus(h);
  });
  stream.on("trailers", takeStatus);
  stream.on("data", (chunk: Buffer) => {
    if (settled) return;
    const got = reader.push(chunk);
    if ("error" in got) {
      settle(got.error);
      stream.close(http2.constants.NGHTTP2_CANCEL);
      return;
    }
    for (const bytes of got) {
      let message: O;
      try {
        message = call.decode(bytes);
      } catch (err) {
        settle(new ConnectError(`a response from ${ep.address} does not decode: ${(err as Error).message}`, Code.Internal));
        stream.close(http2.constants.NGHTTP2_CANCEL);
        return;
      }
      out.push(message);
    }
    if (out.length >= MAX_QUEUED) stream.pause();
  });
  stream.on("error", (err: Error) => settle(new ConnectError(`the call to ${ep.address} failed: ${err.message}`, Code.Unavailable, undefined, undefined, err)));
  stream.on("close", () => {
    if (reader.pending > 0) return settle(new ConnectError(`${ep.address} ended the call inside a message`, Code.Internal));
    if (!status) {
      const reset = stream.rstCode !== undefined && stream.rstCode !== http2.constants.NGHTTP2_NO_ERROR;
      return settle(
        new ConnectError(
          reset ? `${ep.address} reset the call (code ${stream.rstCode})` : `${ep.address} ended the call without a status`,
          reset ? Code.Unavailable : Code.Internal,
        ),
      );
    }
    settle(status.code === 0 ? undefined : new ConnectError(status.message, status.code in Code ? (status.code as Code) : Code.Unknown));
  });
  const onAbort = () => {
    settle(new ConnectError("the call was canceled", Code.Canceled));
    stream.close(http2.constants.NGHTTP2_CANCEL);
  };
  signal.addEventListener("abort", onAbort, { once: true });

  const sending = requests[Symbol.asyncIterator]();
  const send = async () => {
    for (;;) {
      const next = await sending.next();
      if (next.done || settled || stream.closed) break;
      const body = call.encode(next.value);
      const frame = Buffer.allocUnsafe(5 + body.length);
      frame[0] = 0;
      frame.writeUInt32BE(body.length, 1);
      frame.set(body, 5);
      if (!stream.write(frame)) await new Promise<void>((r) => (stream.once("drain", r), stream.once("close", r)));
    }
    if (!stream.closed) stream.end();
  };
  send().catch((err: unknown) =>
    settle(err instanceof ConnectError ? err : new ConnectError(`sending to ${ep.address} failed: ${String(err)}`, Code.Internal)),
  );

  try {
    for await (const message of out) {
      if (stream.isPaused() && out.length < MAX_QUEUED / 2) stream.resume();
      yield message;
    }
  } finally {
    settled = true;
    clearTimeout(connectTimer);
    signal.removeEventListener("abort", onAbort);
    void sending.return?.();
    if (!stream.closed) stream.close(http2.constants.NGHTTP2_CANCEL);
    // A session still connecting has nothing to close gracefully (a server that never answered).
    if (session.connecting) session.destroy();
    else session.close();
    // A server that never closes the connection after GOAWAY does not keep the socket.
    const kill = setTimeout(() => session.destroy(), 1000).unref();
    session.once("close", () => clearTimeout(kill));
  }
}
