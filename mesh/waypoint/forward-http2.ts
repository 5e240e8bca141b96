// Forwards one request to an endpoint over HTTP/2 (h2-upstreams.ts) and streams the answer, with its
// trailers (gRPC's status), to the client. A trailers-only answer (a gRPC error) stays trailers-only.
// Backpressure both ways; a client that resets its stream resets the upstream one, and an upstream
// reset after the headers resets the client's (a gRPC client then sees the call fail, as it should).
import http2 from "node:http2";
import type { Downstream, HeaderValues } from "./downstream.ts";
import { responseHeaders, type Forwarded, type ForwardRequest } from "./forward-request.ts";
import type { H2Upstreams } from "./h2-upstreams.ts";
import type { UpstreamTarget } from "./upstream.ts";
import { describeError } from "../shared/index.ts";

/** Returns what cancels the request (a timeout): the upstream stream is reset, `done` is not called. */
export function forwardHttp2(sessions: H2Upstreams, target: UpstreamTarget, req: ForwardRequest, down: Downstream, done: (f: Forwarded) => void): () => void {
  let settled = false;
  const settle = (f: Forwarded) => {
    if (settled) return;
    settled = true;
    done(f);
  };
  let up: http2.ClientHttp2Stream | undefined;
  let gone = false;
  down.onGone(() => {
    gone = true;
    up?.close(http2.constants.NGHTTP2_CANCEL);
    req.body?.destroy();
    settle({ code: 499, flag: "DC", detail: "downstream closed", bytes: 0 });
  });
  sessions.session(target).then(
    (session) => {
      if (gone) return;
      try {
        up = session.request(
          { ...req.headers, ":method": req.method, ":path": req.path, ":authority": req.authority, ":scheme": "http" },
          { endStream: req.body === null },
        );
      } catch (err) {
        // The session closed between lookup and use, or a header HTTP/2 cannot carry.
        settle({ code: 503, flag: "UF", detail: describeError(err), bytes: 0, local: true });
        return;
      }
      relay(up, req, down, settle);
    },
    (err: unknown) => settle({ code: 503, flag: "UF", detail: describeError(err), bytes: 0, local: true }),
  );
  return () => {
    settled = true;
    gone = true;
    up?.close(http2.constants.NGHTTP2_CANCEL);
  };
}

function relay(up: http2.ClientHttp2Stream, req: ForwardRequest, down: Downstream, settle: (f: Forwarded) => void): void {
  let status = 0;
  let bytes = 0;
  let trailers: HeaderValues | undefined;
  let grpcStatus: string | undefined;
  if (req.body) {
    req.body.pipe(up);
    req.body.on("error", () => up.close(http2.constants.NGHTTP2_CANCEL));
  }
  up.on("response", (h, flags) => {
    status = Number(h[":status"]);
    if (status < 200) return;
    const end = (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0;
    const headers = responseHeaders(h as HeaderValues);
    if (end) grpcStatus = one(headers["grpc-status"]);
    try {
      down.respond(status, headers, end);
    } catch {
      up.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
      return;
    }
    // Only now: node emits "response" on the next tick, after the first DATA may have been read.
    if (!end) up.on("data", onData);
  });
  up.on("trailers", (t) => {
    trailers = responseHeaders(t as HeaderValues);
    grpcStatus = one(trailers["grpc-status"]);
  });
  const onData = (chunk: Buffer) => {
    bytes += chunk.length;
    if (!down.write(chunk)) up.pause();
  };
  down.onDrain(() => up.resume());
  // Errors end in "close" with the reason: nothing to do twice.
  up.on("error", () => undefined);
  // The response ends on "close", not "end": "trailers", like "response", is emitted a tick late.
  up.on("close", () => {
    const clean = up.rstCode === http2.constants.NGHTTP2_NO_ERROR && status >= 200;
    if (clean) {
      down.end(trailers);
      return settle({ code: status, flag: "-", detail: "via_upstream", bytes, grpcStatus });
    }
    if (!down.headersSent) return settle({ code: 503, flag: "UF", detail: `upstream reset before headers (code ${up.rstCode})`, bytes: 0, local: true });
    down.abort();
    settle({ code: status, flag: "UPE", detail: `upstream reset after headers (code ${up.rstCode})`, bytes, grpcStatus });
  });
}

function one(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
