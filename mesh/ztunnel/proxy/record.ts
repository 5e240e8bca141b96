// Opens and closes the books on one connection: metrics at both ends, one access-log line at the end.
import { describeError, ErrorCode, MeshError } from "../../shared/index.ts";
import { accessLogFields, tcpLabels, type ConnectionView } from "../telemetry/labels.ts";
import type { ResponseFlag } from "../telemetry/metrics.ts";
import type { ProxyContext } from "./context.ts";
import type { Duplex } from "node:stream";
import type { ConnectionFacts } from "../rbac/evaluate.ts";
import { relay, type RelayResult } from "./relay.ts";
import { relayTunnel } from "./relay-tunnel.ts";
import type net from "node:net";
import { H2Stream } from "../../proxy/index.ts";

export class ConnectionRecord {
  private readonly started = performance.now();
  private readonly ctx: ProxyContext;
  view: ConnectionView;
  private opened = false;

  constructor(ctx: ProxyContext, view: ConnectionView) {
    this.ctx = ctx;
    this.view = view;
  }

  /** The connection is established end to end and relaying starts. */
  open(): void {
    this.opened = true;
    this.ctx.metrics.opened.inc(tcpLabels(this.view, "-", this.ctx.clusterId));
    this.ctx.metrics.socketsOpen.inc({ direction: this.view.direction });
  }

  /**
   * Relays until both sides are done, tracked so that drain and policy re-checks can end it.
   * `facts` (inbound only) are what a policy change is re-evaluated on.
   */
  async relay(client: Duplex | H2Stream, upstream: Duplex | H2Stream, facts?: ConnectionFacts): Promise<void> {
    this.open();
    const idleMs = this.ctx.tuning.idleTimeoutMs;
    const opts = {
      idleMs,
      pools: this.ctx.readPools,
      onIdle: () => {
        this.ctx.limitHit("idle_timeout", { "src.addr": this.view.srcAddr, "dst.addr": this.view.dstAddr, ms: idleMs }, "idle connection closed");
        return new MeshError(ErrorCode.IdleTimeout, `no bytes either way for ${idleMs} ms`);
      },
    };
    // An HBONE stream of our own HTTP/2 on one side, a TCP socket on the other: no stream layer between.
    const r =
      upstream instanceof H2Stream
        ? relayTunnel(client as net.Socket, upstream, "tcp-is-client", opts)
        : client instanceof H2Stream
          ? relayTunnel(upstream as net.Socket, client, "stream-is-client", opts)
          : relay(client, upstream, opts);
    const untrack = this.ctx.tracker.add({
      id: this.ctx.tracker.newId(),
      direction: this.view.direction,
      ...(facts ? { facts } : {}),
      close: (reason) => r.abort(reason),
    });
    const result = await r.done;
    untrack();
    this.close(result);
  }

  /** The connection was refused or failed before relaying. */
  fail(flag: ResponseFlag, err: unknown): void {
    const labels = tcpLabels(this.view, flag, this.ctx.clusterId);
    this.ctx.metrics.failed.inc(labels);
    const error = describeError(err);
    // Rate-limited: every refused connection is counted in the metrics, but a flood of them must not flood the log.
    this.ctx.failLog.warn(
      `failed:${flag}`,
      accessLogFields(this.view, { bytesSent: 0, bytesRecv: 0, durationMs: performance.now() - this.started, error, flag }),
      "connection failed",
    );
  }

  close(result: RelayResult, flag: ResponseFlag = "-"): void {
    if (this.opened) {
      // Label sets for opened and closed must match, so "closed" carries the flag only in the log.
      const labels = tcpLabels(this.view, "-", this.ctx.clusterId);
      this.ctx.metrics.closed.inc(labels);
      this.ctx.metrics.received.inc(labels, result.bytesFromClient);
      this.ctx.metrics.sent.inc(labels, result.bytesToClient);
      this.ctx.metrics.socketsOpen.dec({ direction: this.view.direction });
    } else {
      this.ctx.metrics.failed.inc(tcpLabels(this.view, flag, this.ctx.clusterId));
    }
    const fields = accessLogFields(this.view, {
      bytesSent: result.bytesToClient,
      bytesRecv: result.bytesFromClient,
      durationMs: performance.now() - this.started,
      flag,
      ...(result.error ? { error: describeError(result.error) } : {}),
    });
    if (result.error) this.ctx.accessLog.error(fields, "connection complete");
    else this.ctx.accessLog.info(fields, "connection complete");
  }
}
