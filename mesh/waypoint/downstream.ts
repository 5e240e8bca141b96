// The client side of one request, over HTTP/1.1 (node's ServerResponse) or HTTP/2 (a server stream),
// as the forwarders write to it: status and headers, body with backpressure, an end with trailers (kept
// by HTTP/2, where gRPC carries its status in them; HTTP/1.1 clients here get none), or a reset when the
// upstream fails after the headers went out.
import type http from "node:http";
import http2 from "node:http2";

export type HeaderValues = Record<string, string | string[]>;

export interface Downstream {
  readonly version: "HTTP/1.1" | "HTTP/2";
  readonly headersSent: boolean;
  /**
   * `end`: the response has no body (and, over HTTP/2, no trailers: a trailers-only gRPC answer). Throws
   * on headers the client's protocol cannot carry (the caller answers 502 instead).
   */
  respond(status: number, headers: HeaderValues, end?: boolean): void;
  /** False: wait for `onDrain` before writing more. */
  write(chunk: Uint8Array): boolean;
  end(trailers?: HeaderValues): void;
  /** The response cannot be completed: reset the stream (HTTP/2) or close the connection (HTTP/1.1). */
  abort(): void;
  onDrain(cb: () => void): void;
  /** The client went away before the response was complete. */
  onGone(cb: () => void): void;
}

export function http1Downstream(res: http.ServerResponse): Downstream {
  return {
    version: "HTTP/1.1",
    get headersSent() {
      return res.headersSent;
    },
    respond: (status, headers, end) => {
      res.writeHead(status, headers);
      if (end) res.end();
    },
    write: (chunk) => res.write(chunk),
    end: () => res.end(),
    abort: () => res.destroy(),
    onDrain: (cb) => res.on("drain", cb),
    onGone: (cb) =>
      res.on("close", () => {
        if (!res.writableFinished) cb();
      }),
  };
}

export function http2Downstream(stream: http2.ServerHttp2Stream): Downstream {
  let trailers: HeaderValues | undefined;
  let ended = false;
  return {
    version: "HTTP/2",
    get headersSent() {
      return stream.headersSent;
    },
    respond: (status, headers, end) => {
      if (stream.destroyed || stream.closed) return;
      // Trailers are sent once the body has been: gRPC's status travels in them.
      stream.respond({ ...headers, ":status": status }, { endStream: end === true, waitForTrailers: end !== true });
      if (!end) {
        stream.once("wantTrailers", () => {
          try {
            stream.sendTrailers(trailers ?? {});
          } catch {
            // Trailers node will not send (a name or value HTTP/2 forbids): the stream cannot end cleanly.
            stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
          }
        });
      }
      ended = end === true;
    },
    write: (chunk) => (stream.destroyed ? true : stream.write(chunk)),
    end: (t) => {
      trailers = t;
      if (!ended && !stream.destroyed) stream.end();
      ended = true;
    },
    abort: () => {
      if (!stream.destroyed) stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
    },
    onDrain: (cb) => stream.on("drain", cb),
    onGone: (cb) =>
      stream.on("close", () => {
        if (!ended || stream.rstCode !== http2.constants.NGHTTP2_NO_ERROR) cb();
      }),
  };
}

/** The same client, with `edit` applied to the response headers it is sent. */
export function editingResponseHeaders(down: Downstream, edit: (h: HeaderValues) => HeaderValues): Downstream {
  return {
    version: down.version,
    get headersSent() {
      return down.headersSent;
    },
    respond: (status, headers, end) => down.respond(status, edit({ ...headers }), end),
    write: (chunk) => down.write(chunk),
    end: (trailers) => down.end(trailers),
    abort: () => down.abort(),
    onDrain: (cb) => down.onDrain(cb),
    onGone: (cb) => down.onGone(cb),
  };
}
