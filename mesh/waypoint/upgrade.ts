// HTTP/1.1 Upgrade (WebSockets) through the waypoint. The request is judged like any other (L7 policy,
// HTTPRoute, a healthy endpoint: a refusal is an ordinary HTTP answer and the tunnel closes); once
// allowed, it is sent on a connection of its own to the endpoint (an HBONE stream or TCP, never a pooled
// one: after the upgrade it belongs to this client) and from then on the bytes are relayed both ways
// unread. The upstream's answer (101, or a refusal) reaches the client as the upstream wrote it.
import { STATUS_CODES } from "node:http";
import type http from "node:http";
import type { Duplex } from "node:stream";
import { describeError, formatIdentity } from "../shared/index.ts";
import type { Logger } from "../shared/index.ts";
import type { ExchangeDeps } from "./exchange.ts";
import type { HeaderValues } from "./downstream.ts";
import { forwardHeaders } from "./forward-request.ts";
import type { Tunnel } from "./hbone-listener.ts";
import { requestLabels, type HttpResponseFlag } from "./telemetry.ts";

/** The request head as HTTP/1.1 bytes; header values that could split it (CR, LF) are dropped. */
export function requestHead(method: string, url: string, headers: HeaderValues): string {
  let head = `${method} ${url} HTTP/1.1\r\n`;
  for (const [k, v] of Object.entries(headers)) {
    for (const one of Array.isArray(v) ? v : [v]) if (!/[\r\n]/.test(one)) head += `${k}: ${one}\r\n`;
  }
  return `${head}\r\n`;
}

/** The status code of an HTTP/1.1 response's first bytes, or 0 if they are not a status line. */
export function statusOf(first: Buffer): number {
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(first.subarray(0, 16).toString("latin1"));
  return m ? Number(m[1]) : 0;
}

export function forwardUpgrade(deps: ExchangeDeps, log: Logger, t: Tunnel, req: http.IncomingMessage, client: Duplex, head: Buffer): void {
  const started = performance.now();
  const path = (req.url ?? "/").split("?")[0]!;
  const method = req.method ?? "GET";
  const plan = deps.planner.plan(t, { method, path, headers: req.headers, url: req.url ?? "/", host: req.headers.host ?? "" });
  const record = (code: number, flag: HttpResponseFlag, detail: string) => {
    deps.metrics.http.record(requestLabels(plan.parties, code, flag), [performance.now() - started, 0, 0]);
    deps.accessLog?.info({ "src.identity": formatIdentity(t.peer), method, path, upgrade: req.headers.upgrade, code, flags: flag, detail }, "request");
  };
  client.on("error", () => undefined);
  if (plan.kind === "answer") {
    const extra = Object.entries(plan.headers ?? {})
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join("");
    const code = plan.outcome.code;
    refuse(
      client,
      `HTTP/1.1 ${code} ${STATUS_CODES[code] ?? "Error"}\r\n${extra}content-type: text/plain\r\ncontent-length: ${Buffer.byteLength(plan.body)}\r\nconnection: close\r\n\r\n${plan.body}`,
    );
    return record(plan.outcome.code, plan.outcome.flag, plan.outcome.detail);
  }
  const headers = forwardHeaders(req.headers, plan.requestHeaders);
  headers.host = req.headers.host ?? "";
  headers.connection = "upgrade";
  headers.upgrade = String(req.headers.upgrade ?? "");
  deps.upstreams.connect(plan.target).then(
    (upstream) => {
      if (client.destroyed) return upstream.destroy();
      upstream.on("error", () => undefined);
      upstream.write(requestHead(method, req.url ?? "/", headers));
      if (head.length) upstream.write(head);
      upstream.once("data", (first: Buffer) => record(statusOf(first), "-", "via_upstream"));
      // Each side's end ends the other's writing; either closing closes both.
      client.pipe(upstream);
      upstream.pipe(client);
      client.once("close", () => upstream.destroy());
      upstream.once("close", () => client.destroy());
    },
    (err: unknown) => {
      log.debug({ err: describeError(err) }, "upgrade: upstream connection failed");
      const body = "upstream connect error or disconnect/reset before headers";
      refuse(client, `HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`);
      record(503, "UF", describeError(err));
    },
  );
}

/** How long a refused client may keep its side open after the answer (nginx's lingering_timeout is 5 s). */
const LINGER_MS = 5_000;

/**
 * Answers and closes: a lingering close, as HTTP servers do. What the client still sends is read and
 * dropped until it ends its side, so the tunnel closes when the client's does (nothing else reads it
 * after an upgrade request); a client that never ends loses the tunnel after LINGER_MS.
 */
function refuse(client: Duplex, answer: string): void {
  client.end(answer);
  client.resume();
  const linger = setTimeout(() => client.destroy(), LINGER_MS);
  linger.unref();
  client.once("close", () => clearTimeout(linger));
}
