// One request through the waypoint, after its front end (HTTP/1.1 or HTTP/2) has read the headers: plan
// it (request-plan.ts), answer it locally or forward it over the protocol the backend's port declares
// (the client's own when it declares none), then count it (Istio's HTTP metrics, with request_protocol
// and grpc_response_status) and log it. A gRPC call answered by the waypoint itself gets a gRPC status
// (trailers-only, HTTP 200), as Envoy answers gRPC clients.
import { encodeGrpcMessage, formatAddr, formatIdentity, grpcStatusForHttp, isGrpcContentType } from "../shared/index.ts";
import type { Logger } from "../shared/index.ts";
import { editingResponseHeaders, type Downstream } from "./downstream.ts";
import { forwardHttp1 } from "./forward-http1.ts";
import { forwardHttp2 } from "./forward-http2.ts";
import { runAttempts } from "./attempts.ts";
import type { Mirrors } from "./mirror.ts";
import { applyHeaderModifier, forwardHeaders, type ForwardRequest } from "./forward-request.ts";
import { modifyPath } from "./l7/rewrite.ts";
import type { H2Upstreams } from "./h2-upstreams.ts";
import type { Tunnel } from "./hbone-listener.ts";
import type { RequestPlanner, Outcome } from "./request-plan.ts";
import { requestLabels, type WaypointMetrics } from "./telemetry.ts";
import type { Upstreams } from "./upstream.ts";
import type { Readable } from "node:stream";

export interface ExchangeDeps {
  planner: RequestPlanner;
  upstreams: Upstreams;
  h2: H2Upstreams;
  mirrors: Mirrors;
  metrics: WaypointMetrics;
  /** One JSON line per request; undefined turns access logging off (Istio's default for waypoints). */
  accessLog: Logger | undefined;
}

/** A request as a front end read it. */
export interface IncomingRequest {
  method: string;
  /** Path and query. */
  url: string;
  authority: string;
  /** Lower-case names; HTTP/2 pseudo-headers may be among them (they are not forwarded). */
  headers: Readonly<Record<string, string | string[] | undefined>>;
  body: Readable | null;
  /** Counts the request body's bytes as they are read. */
  bodyBytes: () => number;
}

export function runExchange(deps: ExchangeDeps, t: Tunnel, req: IncomingRequest, down: Downstream): void {
  const started = performance.now();
  const path = req.url.split("?")[0]!;
  const grpc = isGrpcContentType(req.headers["content-type"]);
  const plan = deps.planner.plan(t, { method: req.method, path, headers: req.headers, url: req.url, host: req.authority });
  const finish = (o: Outcome, resBytes: number, grpcStatus: string | undefined) => {
    const ms = performance.now() - started;
    const labels = requestLabels(plan.parties, o.code, o.flag, grpc ? "grpc" : "http", grpcStatus ?? "");
    deps.metrics.http.record(labels, [ms, req.bodyBytes(), resBytes]);
    deps.accessLog?.info(
      {
        "src.identity": formatIdentity(t.peer),
        "src.workload": plan.parties.srcWorkload?.name,
        "dst.addr": formatAddr(t.authority),
        "dst.service": plan.parties.service?.hostname,
        "dst.workload": plan.parties.dstWorkload?.name,
        protocol: down.version,
        method: req.method,
        path,
        code: o.code,
        ...(grpcStatus !== undefined ? { grpc_status: grpcStatus } : {}),
        flags: o.flag,
        detail: o.detail,
        route: o.route,
        policy: o.policy,
        duration_ms: Math.round(ms * 1000) / 1000,
        bytes_sent: resBytes,
        bytes_received: req.bodyBytes(),
      },
      "request",
    );
  };
  const local = (o: Outcome, body: string, headers: Record<string, string> = {}) => {
    req.body?.resume();
    const answered = answerLocally(down, o.code, body, grpc, headers);
    finish(o, answered.bytes, answered.grpcStatus);
  };
  if (plan.kind === "answer") return local(plan.outcome, plan.body, plan.headers);

  const tags = { ...(plan.route ? { route: plan.route } : {}), ...(plan.policy ? { policy: plan.policy } : {}) };
  const headers = forwardHeaders(req.headers, plan.requestHeaders);
  const fwd: ForwardRequest = { method: req.method, path: req.url, authority: req.authority, headers, body: req.body, grpc };
  // URLRewrite: forwarded with another path and/or host; policy and routing saw the original.
  if (plan.rewrite?.path) fwd.path = modifyPath(path, plan.rewrite.path, plan.matchedPrefix) + req.url.slice(path.length);
  if (plan.rewrite?.hostname) fwd.authority = plan.rewrite.hostname;
  const responseHeaders = plan.responseHeaders;
  const to = responseHeaders ? editingResponseHeaders(down, (h) => applyHeaderModifier(h, responseHeaders)) : down;
  const clientProtocol = down.version === "HTTP/2" ? "http2" : "http";
  // Mirrors read the body beside the real request, so they start before it does.
  if (plan.mirrorTargets) deps.mirrors.send(plan.mirrorTargets, fwd, clientProtocol);
  const speak = plan.declared === "http2" || plan.declared === "grpc" ? "http2" : plan.declared === "http" ? "http" : clientProtocol;
  const backend = plan.backend;
  runAttempts(
    plan.target,
    to,
    {
      forward: (target, d, cb) => (speak === "http" ? forwardHttp1(deps.upstreams, target, fwd, d, cb) : forwardHttp2(deps.h2, target, fwd, d, cb)),
      retarget: () => (backend ? deps.planner.retarget(backend) : undefined),
    },
    {
      // A request with a body is not retried: its bytes are streamed to the first attempt, not kept.
      retry: req.body === null && backend ? plan.retry : undefined,
      requestMs: plan.timeouts?.requestMs,
      backendRequestMs: plan.timeouts?.backendRequestMs,
    },
    {
      done: (f, retries) => {
        const o: Outcome = {
          code: f.code,
          flag: f.flag,
          detail: retries ? `${f.detail} (after ${retries} ${retries === 1 ? "retry" : "retries"})` : f.detail,
          ...tags,
        };
        if (f.local) return local(o, "upstream connect error or disconnect/reset before headers");
        finish(o, f.bytes, f.grpcStatus);
      },
      // Envoy's answer and flag for a route timeout: 504 "upstream request timeout", UT.
      timedOut: (ms) => local({ code: 504, flag: "UT", detail: `request timeout (${ms} ms)`, ...tags }, "upstream request timeout"),
    },
  );
}

/** The waypoint's own answer: plain text, or for a gRPC call its gRPC status in a trailers-only response. */
function answerLocally(
  down: Downstream,
  code: number,
  body: string,
  grpc: boolean,
  headers: Record<string, string>,
): { bytes: number; grpcStatus: string | undefined } {
  if (down.headersSent) {
    down.abort();
    return { bytes: 0, grpcStatus: undefined };
  }
  if (grpc) {
    const status = String(grpcStatusForHttp(code));
    down.respond(200, { "content-type": "application/grpc", "grpc-status": status, "grpc-message": encodeGrpcMessage(body.trim()) }, true);
    return { bytes: 0, grpcStatus: status };
  }
  down.respond(code, { ...headers, "content-type": "text/plain", "content-length": String(Buffer.byteLength(body)) });
  down.write(Buffer.from(body));
  down.end();
  return { bytes: Buffer.byteLength(body), grpcStatus: undefined };
}
