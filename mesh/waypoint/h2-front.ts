// The waypoint's HTTP/2 front end: a cleartext HTTP/2 server (prior knowledge) reading tunnels whose
// first bytes were the HTTP/2 preface. node:http2 (nghttp2) does the framing, flow control and HPACK and
// answers protocol errors itself (RST_STREAM or GOAWAY); we bound what one client can hold: concurrent
// streams, header list size, session memory, and idle time. Each stream is one request for exchange.ts.
import http2 from "node:http2";
import type { Duplex } from "node:stream";
import { describeError } from "../shared/index.ts";
import type { Logger } from "../shared/index.ts";
import { http2Downstream } from "./downstream.ts";
import { runExchange, type ExchangeDeps } from "./exchange.ts";
import type { Tunnel } from "./hbone-listener.ts";
import type { WaypointMetrics } from "./telemetry.ts";

/** Envoy's defaults for a listener: 60 KiB of request headers; a minute without frames closes a session. */
export const H2_LIMITS = { maxConcurrentStreams: 1000, maxHeaderListSize: 60 * 1024, maxSessionMemoryMb: 16, idleMs: 60_000 };

export class H2Front {
  private readonly exchange: ExchangeDeps;
  private readonly log: Logger;
  private readonly metrics: WaypointMetrics;
  private readonly server: http2.Http2Server;
  private readonly tunnelOf = new WeakMap<http2.Http2Session, Tunnel>();
  private readonly sessions = new Set<http2.ServerHttp2Session>();
  /** The tunnel whose session is being created: 'session' is emitted while 'connection' is. */
  private arriving: Tunnel | undefined;

  constructor(exchange: ExchangeDeps, log: Logger, metrics: WaypointMetrics) {
    this.exchange = exchange;
    this.log = log;
    this.metrics = metrics;
    this.server = http2.createServer({
      settings: { maxConcurrentStreams: H2_LIMITS.maxConcurrentStreams, maxHeaderListSize: H2_LIMITS.maxHeaderListSize },
      maxHeaderListPairs: 256,
      maxSessionMemory: H2_LIMITS.maxSessionMemoryMb,
    });
    this.server.on("session", (session: http2.ServerHttp2Session) => {
      const t = this.arriving;
      if (!t) return session.destroy();
      this.tunnelOf.set(session, t);
      this.sessions.add(session);
      session.setTimeout(H2_LIMITS.idleMs, () => session.close());
      session.on("error", (err) => log.debug({ err: describeError(err) }, "HTTP/2 session error in tunnel"));
      session.on("close", () => this.sessions.delete(session));
    });
    this.server.on("stream", (stream, headers) => this.onStream(stream, headers));
    // A peer breaking the protocol: nghttp2 has already answered it; count and keep serving.
    this.server.on("sessionError", (err) => log.debug({ err: describeError(err) }, "HTTP/2 protocol error in tunnel"));
  }

  handleTunnel(t: Tunnel): void {
    this.arriving = t;
    try {
      this.server.emit("connection", t.stream as Duplex);
    } finally {
      this.arriving = undefined;
    }
  }

  private onStream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void {
    // Failures surface as the stream's close; the exchange handles them there.
    stream.on("error", () => undefined);
    const t = this.tunnelOf.get(stream.session as http2.Http2Session);
    const method = headers[":method"] ?? "GET";
    if (!t || method === "CONNECT") {
      // Extended CONNECT (WebSockets over HTTP/2) is not offered (no SETTINGS_ENABLE_CONNECT_PROTOCOL).
      this.metrics.limitHits.inc({ limit: "h2_connect" });
      if (!stream.destroyed) stream.respond({ ":status": 405 }, { endStream: true });
      return;
    }
    let bytes = 0;
    const body = stream.readableEnded || (stream as unknown as { endAfterHeaders: boolean }).endAfterHeaders ? null : stream;
    if (body) {
      body.on("data", (c: Buffer) => (bytes += c.length));
      // Counting must not start the flow before a forwarder is attached: it resumes the stream.
      body.pause();
    }
    try {
      runExchange(
        this.exchange,
        t,
        {
          method,
          url: headers[":path"] ?? "/",
          authority: headers[":authority"] ?? headers.host ?? "",
          headers,
          body,
          bodyBytes: () => bytes,
        },
        http2Downstream(stream),
      );
    } catch (err) {
      this.log.error({ err: describeError(err) }, "request handler failed");
      if (!stream.headersSent && !stream.destroyed) stream.respond({ ":status": 500 }, { endStream: true });
      else stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
    }
  }

  /** Asks every client session to finish (GOAWAY); streams in flight complete. */
  close(): void {
    for (const s of this.sessions) s.close();
  }
}
