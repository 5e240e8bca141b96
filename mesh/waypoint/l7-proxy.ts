// The waypoint's HTTP layer: every HBONE tunnel is read as an HTTP/1.1 connection; each request is
// authorized (L7 AuthorizationPolicy), routed (HTTPRoute), load-balanced over healthy endpoints and
// forwarded, then counted (Istio's HTTP metrics) and logged. Errors become HTTP answers, never crashes:
// 403 policy, 404 no route, 500 no usable backend, 503 no healthy endpoint or upstream failure.
import { randomUUID } from "node:crypto";
import http from "node:http";
import type { Duplex } from "node:stream";
import type { Dispatcher } from "undici";
import { formatAddr } from "../shared/index.ts";
import { describeError } from "../shared/index.ts";
import { formatIdentity } from "../shared/index.ts";
import type { Logger } from "../shared/index.ts";
import { identityOf } from "../proxy/index.ts";
import type { ProxyState } from "../proxy/index.ts";
import type { StateStore } from "../proxy/index.ts";
import { serviceKey, type HeaderModifier, type L7Policy, type Service } from "../proxy/index.ts";
import type { Tunnel } from "./hbone-listener.ts";
import { authorizeRequest, policiesFor } from "./l7/authz.ts";
import { orderRules, routeRequest, type RouteCandidate } from "./l7/route.ts";
import { requestLabels, type HttpResponseFlag, type RequestParties, type WaypointMetrics } from "./telemetry.ts";
import { asSocketLike, endpointTarget, type Upstreams, type UpstreamTarget } from "./upstream.ts";

export interface L7ProxyDeps {
  gateway: { namespace: string; name: string };
  state: StateStore;
  upstreams: Upstreams;
  metrics: WaypointMetrics;
  log: Logger;
  /** One JSON line per request; undefined turns access logging off (Istio's default for waypoints). */
  accessLog: Logger | undefined;
  pick: (n: number) => number;
}

// Hop-by-hop headers (RFC 9110 7.6.1) end at the waypoint.
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "te",
  "trailer",
  "upgrade",
  "proxy-authorization",
  "proxy-authenticate",
]);

function forwardHeaders(h: http.IncomingHttpHeaders, mod: HeaderModifier | undefined): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  // Expect ends here too: node's server has already sent the client its 100 Continue.
  for (const k in h) {
    const v = h[k];
    if (v !== undefined && !HOP_BY_HOP.has(k) && k !== "expect") out[k] = v;
  }
  if (mod) {
    for (const [k, v] of Object.entries(mod.set)) out[k] = v;
    for (const [k, v] of Object.entries(mod.add)) out[k] = out[k] === undefined ? v : [...[out[k]].flat().map(String), v];
    for (const k of mod.remove) delete out[k];
  }
  out["x-request-id"] ??= randomUUID();
  out["x-forwarded-proto"] ??= "http";
  return out;
}

/** A request has a body when it says so (RFC 9112 6.3: without either header, it has none). */
function hasBody(req: http.IncomingMessage): boolean {
  const len = req.headers["content-length"];
  return len !== undefined ? len !== "0" : req.headers["transfer-encoding"] !== undefined;
}

function responseHeaders(h: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const k in h) {
    const v = h[k];
    if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
  }
  return out;
}

interface Outcome {
  code: number;
  flag: HttpResponseFlag;
  detail: string;
  route?: string;
  policy?: string;
}

export class L7Proxy {
  private readonly deps: L7ProxyDeps;
  private readonly server: http.Server;
  private readonly tunnels = new WeakMap<Duplex, Tunnel>();
  /** Per config version and destination: ordered route candidates and the L7 policies that apply. */
  private readonly perState = new WeakMap<ProxyState, Map<string, { routes: RouteCandidate[]; policies: L7Policy[] }>>();

  constructor(deps: L7ProxyDeps) {
    this.deps = deps;
    this.server = http.createServer({ keepAliveTimeout: 60_000, requestTimeout: 0 }, (req, res) => {
      this.handle(req, res).catch((err) => {
        deps.log.error({ err: describeError(err) }, "request handler failed");
        if (!res.headersSent) res.writeHead(500).end("internal error\n");
        else res.destroy();
      });
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
    this.tunnels.set(stream, t);
    this.deps.metrics.tunnelsOpen.inc();
    stream.once("close", () => this.deps.metrics.tunnelsOpen.dec());
    this.server.emit("connection", stream);
  }

  /** Computed once per config version and destination, not per request. */
  private configFor(state: ProxyState, service: Service | undefined): { routes: RouteCandidate[]; policies: L7Policy[] } {
    let byDst = this.perState.get(state);
    if (!byDst) {
      byDst = new Map();
      this.perState.set(state, byDst);
    }
    const key = service ? serviceKey(service) : "";
    let c = byDst.get(key);
    if (!c) {
      c = {
        routes: service ? orderRules(state.routesFor(key)) : [],
        policies: policiesFor(state.l7Policies, this.deps.gateway, service ? { namespace: service.namespace, name: service.name } : undefined),
      };
      byDst.set(key, c);
    }
    return c;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const started = performance.now();
    const t = this.tunnels.get(req.socket);
    if (!t) throw new Error("request on a connection that is not a tunnel");
    const state = this.deps.state.current;
    const service = state.serviceByVip(t.authority.ip);
    const podTarget = service ? undefined : state.workloadByIp(t.authority.ip);
    const clientWorkload = t.clientAddr ? state.workloadByIp(t.clientAddr.ip) : undefined;
    // Source labels only when the workload at the claimed address really has the authenticated identity.
    const srcWorkload = clientWorkload && formatIdentity(identityOf(clientWorkload)) === formatIdentity(t.peer) ? clientWorkload : undefined;
    const parties: RequestParties = { src: t.peer, srcWorkload, service, dstWorkload: undefined, dstIdentity: undefined };
    const path = (req.url ?? "/").split("?")[0]!;
    let reqBytes = 0;
    req.on("data", (c: Buffer) => (reqBytes += c.length));

    const finish = (o: Outcome, resBytes: number) => {
      const labels = requestLabels(parties, o.code, o.flag);
      const ms = performance.now() - started;
      this.deps.metrics.http.record(labels, [ms, reqBytes, resBytes]);
      this.deps.accessLog?.info(
        {
          "src.identity": formatIdentity(t.peer),
          "src.workload": srcWorkload?.name,
          "dst.addr": formatAddr(t.authority),
          "dst.service": service?.hostname,
          "dst.workload": parties.dstWorkload?.name,
          method: req.method,
          path,
          code: o.code,
          flags: o.flag,
          detail: o.detail,
          route: o.route,
          policy: o.policy,
          duration_ms: Math.round(ms * 1000) / 1000,
          bytes_sent: resBytes,
          bytes_received: reqBytes,
        },
        "request",
      );
    };
    const answer = (o: Outcome, body: string) => {
      if (!res.headersSent) res.writeHead(o.code, { "content-type": "text/plain", "content-length": Buffer.byteLength(body) }).end(body);
      req.resume();
      finish(o, Buffer.byteLength(body));
    };

    const config = this.configFor(state, service);
    const decision = authorizeRequest(config.policies, { srcIdentity: t.peer, method: req.method ?? "GET", path, port: t.authority.port });
    if (!decision.allowed) {
      return answer(
        {
          code: 403,
          flag: "-",
          detail: `rbac_access_denied_matched_policy[${decision.policy ?? "none"}]`,
          ...(decision.policy ? { policy: decision.policy } : {}),
        },
        "RBAC: access denied",
      );
    }

    let target: UpstreamTarget;
    let route: string | undefined;
    let headerMod: HeaderModifier | undefined;
    if (service) {
      const key = serviceKey(service);
      const d = routeRequest(
        config.routes,
        { service: key, port: t.authority.port, weight: 1 },
        { method: req.method ?? "GET", path, headers: req.headers },
        this.deps.pick,
      );
      if (d.kind === "no-route") return answer({ code: 404, flag: "NR", detail: d.message }, "route not found\n");
      if (d.kind === "no-backend") return answer({ code: 500, flag: "-", detail: d.message, route: d.route }, "no backend\n");
      route = d.route;
      headerMod = d.requestHeaders;
      const backend = state.service(d.backend.service);
      const eps = backend ? state.endpoints(backend, d.backend.port) : [];
      if (eps.length === 0) {
        return answer(
          { code: 503, flag: "UH", detail: `no healthy endpoint for ${d.backend.service}:${d.backend.port}`, ...(route ? { route } : {}) },
          "no healthy upstream",
        );
      }
      target = endpointTarget(eps[this.deps.pick(eps.length)]!);
    } else if (podTarget) {
      target = { workload: podTarget, port: t.authority.port };
    } else {
      return answer(
        { code: 503, flag: "UH", detail: `${formatAddr(t.authority)} is neither a service nor a workload this waypoint knows` },
        "no healthy upstream",
      );
    }
    parties.dstWorkload = target.workload;
    parties.dstIdentity = target.workload.protocol === "HBONE" ? identityOf(target.workload) : undefined;
    await this.forward(req, res, target, headerMod, (code, flag, detail, resBytes) =>
      finish({ code, flag, detail, ...(route ? { route } : {}), ...(decision.policy ? { policy: decision.policy } : {}) }, resBytes),
    );
  }

  private forward(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    target: UpstreamTarget,
    headerMod: HeaderModifier | undefined,
    done: (code: number, flag: HttpResponseFlag, detail: string, resBytes: number) => void,
  ): Promise<void> {
    return new Promise((resolve) => {
      let settled = false;
      const settle = (code: number, flag: HttpResponseFlag, detail: string, bytes: number) => {
        if (settled) return;
        settled = true;
        done(code, flag, detail, bytes);
        resolve();
      };
      let bytes = 0;
      let controller: Dispatcher.DispatchController | undefined;
      let downstreamGone = false;
      // The client went away: stop the upstream request too (or never start it, if it is still queued).
      res.on("close", () => {
        if (res.writableFinished) return;
        downstreamGone = true;
        controller?.abort(new Error("downstream closed"));
        settle(499, "DC", "downstream closed", 0);
      });
      res.on("drain", () => controller?.resume());
      this.deps.upstreams.pool(target).dispatch(
        { path: req.url ?? "/", method: req.method ?? "GET", headers: forwardHeaders(req.headers, headerMod), body: hasBody(req) ? req : null },
        {
          onRequestStart: (c) => {
            controller = c;
            if (downstreamGone) c.abort(new Error("downstream closed"));
          },
          onResponseStart: (_c, status, headers, statusMessage) => {
            if (status < 200) return; // 1xx: node's server already answered the client's Expect itself
            res.writeHead(status, statusMessage || undefined, responseHeaders(headers as http.IncomingHttpHeaders));
          },
          // Backpressure end to end: a slow client pauses the upstream read.
          onResponseData: (c, chunk) => {
            bytes += chunk.length;
            if (!res.write(chunk)) c.pause();
          },
          onResponseEnd: () => {
            res.end();
            settle(res.statusCode, "-", "via_upstream", bytes);
          },
          onResponseError: (_c, err) => {
            if (downstreamGone) return;
            if (!res.headersSent) {
              const body = "upstream connect error or disconnect/reset before headers";
              res.writeHead(503, { "content-type": "text/plain", "content-length": Buffer.byteLength(body) }).end(body);
              settle(503, "UF", describeError(err), Buffer.byteLength(body));
            } else {
              res.destroy();
              settle(res.statusCode, "UPE", "upstream reset after headers", bytes);
            }
          },
        },
      );
    });
  }

  /** Closes idle keep-alive tunnels; requests in flight finish. */
  close(): void {
    this.server.closeIdleConnections();
    void this.deps.upstreams.close();
  }
}
