// Forwards one request to an endpoint over HTTP/1.1, on the endpoint's undici pool (upstream.ts), and
// streams the answer to the client whichever HTTP version it speaks. Backpressure end to end: a slow
// client pauses the upstream read; a client that goes away aborts the upstream request.
import type { Readable } from "node:stream";
import type { Dispatcher } from "undici";
import { describeError } from "../shared/index.ts";
import type { Downstream, HeaderValues } from "./downstream.ts";
import { responseHeaders, type Forwarded, type ForwardRequest } from "./forward-request.ts";
import type { Upstreams, UpstreamTarget } from "./upstream.ts";

/** Returns what cancels the request (a timeout): the upstream request is aborted, `done` is not called. */
export function forwardHttp1(upstreams: Upstreams, target: UpstreamTarget, req: ForwardRequest, down: Downstream, done: (f: Forwarded) => void): () => void {
  let settled = false;
  const settle = (f: Forwarded) => {
    if (settled) return;
    settled = true;
    done(f);
  };
  let bytes = 0;
  let controller: Dispatcher.DispatchController | undefined;
  let gone = false;
  down.onGone(() => {
    gone = true;
    controller?.abort(new Error("downstream closed"));
    settle({ code: 499, flag: "DC", detail: "downstream closed", bytes: 0 });
  });
  down.onDrain(() => controller?.resume());
  let status = 0;
  // The headers are this request's own (forwardHeaders builds them per request): Host is set in place.
  const headers: HeaderValues = req.headers;
  headers.host = req.authority;
  upstreams.pool(target).dispatch(
    { path: req.path, method: req.method, headers, body: req.body as Readable | null },
    {
      onRequestStart: (c) => {
        controller = c;
        if (gone) c.abort(new Error("downstream closed"));
      },
      onResponseStart: (c, code, h) => {
        if (code < 200) return; // 1xx: node's server already answered the client's Expect itself
        status = code;
        try {
          down.respond(code, responseHeaders(h as HeaderValues));
        } catch (err) {
          c.abort(err as Error);
        }
      },
      onResponseData: (c, chunk) => {
        bytes += chunk.length;
        if (!down.write(chunk)) c.pause();
      },
      onResponseEnd: (_c, trailers) => {
        down.end(responseHeaders(trailers as HeaderValues));
        settle({ code: status, flag: "-", detail: "via_upstream", bytes, grpcStatus: grpcStatusOf(trailers as HeaderValues) });
      },
      onResponseError: (_c, err) => {
        if (gone) return;
        if (!down.headersSent) settle({ code: 503, flag: "UF", detail: describeError(err), bytes: 0, local: true });
        else {
          down.abort();
          settle({ code: status, flag: "UPE", detail: "upstream reset after headers", bytes });
        }
      },
    },
  );
  return () => {
    settled = true;
    gone = true;
    controller?.abort(new Error("request timeout"));
  };
}

function grpcStatusOf(h: HeaderValues | undefined): string | undefined {
  const v = h?.["grpc-status"];
  return typeof v === "string" ? v : undefined;
}
