// The shared skeleton of the two capture listeners (outbound 15001, inbound plaintext 15006): accept a
// redirected TCP connection, recover where it was going, and hand both to the subclass.
import net from "node:net";
import { formatAddr, normalizeIp, type SockAddr } from "../../shared/index.ts";
import { describeError } from "../../shared/index.ts";
import type { Server } from "../../shared/index.ts";
import { boundAddress, listen } from "../../shared/index.ts";
import { KeyedCounter } from "../../shared/index.ts";
import type { ProxyContext } from "./context.ts";

export abstract class CaptureListener implements Server {
  protected readonly ctx: ProxyContext;
  private readonly server: net.Server;
  private readonly at: SockAddr;
  private readonly label: string;
  private readonly perSource: KeyedCounter;

  constructor(ctx: ProxyContext, at: SockAddr, label: string) {
    this.ctx = ctx;
    this.at = at;
    this.label = label;
    this.perSource = new KeyedCounter(ctx.tuning.maxConnectionsPerSource);
    // Half-open: a client's FIN ends only its direction; the answer may still be on its way.
    this.server = net.createServer({ allowHalfOpen: true, noDelay: true }, (s) => void this.accept(s));
    this.server.on("error", (err) => ctx.log.error({ err: describeError(err) }, `${label} listener error`));
  }

  /** Handles one captured connection: `src` is the client, `dst` its original destination. */
  protected abstract handle(client: net.Socket, src: SockAddr, dst: SockAddr): Promise<void>;

  private async accept(client: net.Socket): Promise<void> {
    client.on("error", () => undefined);
    const src = { ip: normalizeIp(client.remoteAddress ?? ""), port: client.remotePort ?? 0 };
    const release = this.perSource.acquire(src.ip);
    if (!release) {
      this.ctx.limitHit(
        "connections_per_source",
        { "src.addr": formatAddr(src), max: this.perSource.max, listener: this.label },
        `${this.label} connection refused: too many connections from this address`,
      );
      return void client.resetAndDestroy();
    }
    client.once("close", release);
    let dst: SockAddr;
    try {
      dst = await this.ctx.network.originalDst(client);
    } catch (err) {
      this.ctx.peerLog.warn(`${this.label}:no-dst`, { err: describeError(err), "src.addr": formatAddr(src) }, `${this.label} connection without a destination`);
      client.destroy();
      return;
    }
    try {
      await this.handle(client, src, dst);
    } catch (err) {
      this.ctx.log.error({ err: describeError(err), "src.addr": formatAddr(src), "dst.addr": formatAddr(dst) }, `${this.label} handler failed`);
      client.destroy();
    }
  }

  start(): Promise<void> {
    return listen(this.server, this.at);
  }

  address(): SockAddr {
    return boundAddress(this.server);
  }

  stopAccepting(): void {
    this.server.close();
  }

  async drain(deadlineMs: number): Promise<void> {
    this.stopAccepting();
    await this.ctx.tracker.waitIdle(deadlineMs);
  }

  async close(): Promise<void> {
    this.server.close();
  }
}
