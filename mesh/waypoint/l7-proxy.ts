// The waypoint's HTTP layer. Every HBONE tunnel is read as HTTP: HTTP/2 when it opens with the HTTP/2
// connection preface (prior knowledge, h2c: gRPC clients and `curl --http2-prior-knowledge`), HTTP/1.1
// otherwise, as Envoy's codec detection does (preface.ts). Each request then goes through the same
// exchange (exchange.ts: L7 policy, routing, forwarding, metrics); an HTTP/1.1 Upgrade (WebSocket) is
// judged the same way and then relayed (upgrade.ts). Errors become HTTP answers (or gRPC statuses),
// never crashes.
import http from "node:http";
import type { Duplex } from "node:stream";
import { describeError } from "../shared/index.ts";
import type { Logger } from "../shared/index.ts";
import type { StateStore } from "../proxy/index.ts";
import { http1Downstream } from "./downstream.ts";
import { runExchange, type ExchangeDeps } from "./exchange.ts";
import { H2Front } from "./h2-front.ts";
import { H2Upstreams } from "./h2-upstreams.ts";
import type { Tunnel } from "./hbone-listener.ts";
import { sniffHttp2 } from "./preface.ts";
import { forwardUpgrade } from "./upgrade.ts";
import { Mirrors } from "./mirror.ts";
import { RequestPlanner } from "./request-plan.ts";
import type { WaypointMetrics } from "./telemetry.ts";
import { asSocketLike, type Upstreams } from "./upstream.ts";

export interface L7ProxyDeps {
  gateway: { namespace: string; name: string };
  state: StateStore;
  upstreams: Upstreams;
  metrics: WaypointMetrics;
  log: Logger;
  /** One JSON line per request; undefined turns access logging off (Istio's default for waypoints). */
  accessLog: Logger | undefined;
  pick: (n: number) => number;
  /** How long a tunnel may take to show which HTTP version it speaks (its first 24 bytes). */
  sniffTimeoutMs?: number;
}

export class L7Proxy {
  private readonly deps: L7ProxyDeps;
  private readonly exchange: ExchangeDeps;
  private readonly server: http.Server;
  private readonly h2: H2Front;
  private readonly tunnels = new WeakMap<Duplex, Tunnel>();

  constructor(deps: L7ProxyDeps) {
    this.deps = deps;
    const h2 = new H2Upstreams(deps.upstreams);
    this.exchange = {
      planner: new RequestPlanner({ gateway: deps.gateway, state: deps.state, pick: deps.pick }),
      upstreams: deps.upstreams,
      h2,
      mirrors: new Mirrors(deps.upstreams, h2),
      metrics: deps.metrics,
      accessLog: deps.accessLog,
    };
    this.h2 = new H2Front(this.exchange, deps.log, deps.metrics);
    this.server = http.createServer({ keepAliveTimeout: 60_000, requestTimeout: 0 }, (req, res) => this.handle(req, res));
    // Upgrade (WebSockets): judged like any request, then relayed as bytes (upgrade.ts).
    this.server.on("upgrade", (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      const t = this.tunnels.get(socket);
      if (!t) return socket.destroy();
      forwardUpgrade(this.exchange, deps.log, t, req, socket, head);
    });
    // Bytes that are not HTTP/1.1 get a 400 and the tunnel closes; nothing reaches an upstream.
    this.server.on("clientError", (err: NodeJS.ErrnoException, socket: Duplex) => {
      deps.log.debug({ err: describeError(err) }, "malformed HTTP in tunnel");
      if (socket.writable && err.code !== "ECONNRESET") socket.end("HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
      else socket.destroy();
    });
  }

  /** Reads HTTP from an accepted tunnel. */
  handleTunnel(t: Tunnel): void {
    // http's server reads the CONNECT stream itself: no Duplex in between.
    const stream = asSocketLike(t.stream);
    this.deps.metrics.tunnelsOpen.inc();
    stream.once("close", () => this.deps.metrics.tunnelsOpen.dec());
    sniffHttp2(stream, this.deps.sniffTimeoutMs ?? 10_000).then(
      (version) => {
        if (version === "HTTP/2") return this.h2.handleTunnel(t);
        this.tunnels.set(stream, t);
        this.server.emit("connection", stream);
      },
      () => stream.destroy(),
    );
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const t = this.tunnels.get(req.socket);
    if (!t) {
      res.writeHead(500).end("internal error\n");
      return;
    }
    let bytes = 0;
    const body = hasBody(req) ? req : null;
    if (body) {
      body.on("data", (c: Buffer) => (bytes += c.length));
      // Counting must not start the flow before a forwarder is attached: it resumes the request.
      body.pause();
    } else req.resume();
    try {
      runExchange(
        this.exchange,
        t,
        {
          method: req.method ?? "GET",
          url: req.url ?? "/",
          authority: req.headers.host ?? "",
          headers: req.headers,
          body,
          bodyBytes: () => bytes,
        },
        http1Downstream(res),
      );
    } catch (err) {
      this.deps.log.error({ err: describeError(err) }, "request handler failed");
      if (!res.headersSent) res.writeHead(500).end("internal error\n");
      else res.destroy();
    }
  }

  /** Closes idle keep-alive tunnels and upstream sessions; requests in flight finish. */
  close(): void {
    this.server.closeIdleConnections();
    this.h2.close();
    void this.exchange.h2.close();
    void this.deps.upstreams.close();
  }
}

/** A request has a body when it says so (RFC 9112 6.3: without either header, it has none). */
function hasBody(req: http.IncomingMessage): boolean {
  const len = req.headers["content-length"];
  return len !== undefined ? len !== "0" : req.headers["transfer-encoding"] !== undefined;
}
