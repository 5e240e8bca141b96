// The client side of one request, over HTTP/1.1 (node's ServerResponse) or HTTP/2 (a server stream),
// as the forwarders write to it: status and headers, body with backpressure, an end with trailers (kept
// by HTTP/2, where gRPC carries its status in them; HTTP/1.1 clients here get none), or a reset when the
// upstream fails after the headers went out.
//
// One is made per request, so these are classes: an object literal with a getter gets its own accessor
// pair and map per request, and the waypoint's in-process harness saw such literals nearly triple what
// minor GCs promote to the old generation (issue 12's HTTP/1.1 regression: 176 MB against 60 for 22,000
// requests, `--trace-gc-nvp`).
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
  return new Http1Downstream(res);
}

class Http1Downstream implements Downstream {
  readonly version = "HTTP/1.1";
  private readonly res: http.ServerResponse;

  constructor(res: http.ServerResponse) {
    this.res = res;
  }

  get headersSent(): boolean {
    return this.res.headersSent;
  }

  respond(status: number, headers: HeaderValues, end?: boolean): void {
    this.res.writeHead(status, headers);
    if (end) this.res.end();
  }

  write(chunk: Uint8Array): boolean {
    return this.res.write(chunk);
  }

  end(): void {
    this.res.end();
  }

  abort(): void {
    this.res.destroy();
  }

  onDrain(cb: () => void): void {
    this.res.on("drain", cb);
  }

  onGone(cb: () => void): void {
    const res = this.res;
    res.on("close", () => {
      if (!res.writableFinished) cb();
    });
  }
}

export function http2Downstream(stream: http2.ServerHttp2Stream): Downstream {
  return new Http2Downstream(stream);
}

class Http2Downstream implements Downstream {
  readonly version = "HTTP/2";
  private readonly stream: http2.ServerHttp2Stream;
  private trailers: HeaderValues | undefined;
  private ended = false;

  constructor(stream: http2.ServerHttp2Stream) {
    this.stream = stream;
  }

  get headersSent(): boolean {
    return this.stream.headersSent;
  }

  respond(status: number, headers: HeaderValues, end?: boolean): void {
    const stream = this.stream;
    if (stream.destroyed || stream.closed) return;
    // Trailers are sent once the body has been: gRPC's status travels in them.
    stream.respond({ ...headers, ":status": status }, { endStream: end === true, waitForTrailers: end !== true });
    if (!end) {
      stream.once("wantTrailers", () => {
        try {
          stream.sendTrailers(this.trailers ?? {});
        } catch {
          // Trailers node will not send (a name or value HTTP/2 forbids): the stream cannot end cleanly.
          stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
        }
      });
    }
    this.ended = end === true;
  }

  write(chunk: Uint8Array): boolean {
    return this.stream.destroyed ? true : this.stream.write(chunk);
  }

  end(trailers?: HeaderValues): void {
    this.trailers = trailers;
    if (!this.ended && !this.stream.destroyed) this.stream.end();
    this.ended = true;
  }

  abort(): void {
    if (!this.stream.destroyed) this.stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
  }

  onDrain(cb: () => void): void {
    this.stream.on("drain", cb);
  }

  onGone(cb: () => void): void {
    const stream = this.stream;
    stream.on("close", () => {
      if (!this.ended || stream.rstCode !== http2.constants.NGHTTP2_NO_ERROR) cb();
    });
  }
}

/** The same client, with `edit` applied to the response headers it is sent. */
export function editingResponseHeaders(down: Downstream, edit: (h: HeaderValues) => HeaderValues): Downstream {
  return new EditingDownstream(down, edit);
}

class EditingDownstream implements Downstream {
  private readonly down: Downstream;
  private readonly edit: (h: HeaderValues) => HeaderValues;

  constructor(down: Downstream, edit: (h: HeaderValues) => HeaderValues) {
    this.down = down;
    this.edit = edit;
  }

  get version(): Downstream["version"] {
    return this.down.version;
  }

  get headersSent(): boolean {
    return this.down.headersSent;
  }

  respond(status: number, headers: HeaderValues, end?: boolean): void {
    this.down.respond(status, this.edit({ ...headers }), end);
  }

  write(chunk: Uint8Array): boolean {
    return this.down.write(chunk);
  }

  end(trailers?: HeaderValues): void {
    this.down.end(trailers);
  }

  abort(): void {
    this.down.abort();
  }

  onDrain(cb: () => void): void {
    this.down.onDrain(cb);
  }

  onGone(cb: () => void): void {
    this.down.onGone(cb);
  }
}
