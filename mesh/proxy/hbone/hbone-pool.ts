// Outbound HBONE: mTLS + HTTP/2 connections pooled per (source identity, destination identity,
// destination address), at most `poolMaxStreams` CONNECT streams each, released after `poolIdleMs` idle.
// Concurrent checkouts for one key share a single dial, so a burst does not open a storm of tunnels.
// HTTP/2 is our own (mesh/proxy/h2), framed straight on the TLS socket.
import tls from "node:tls";
import { formatAddr, type SockAddr } from "../../shared/index.ts";
import { describeError, ErrorCode, MeshError } from "../../shared/index.ts";
import { formatIdentity, tryParseIdentity, uriSans, type Identity } from "../../shared/index.ts";
import type { Logger } from "../../shared/index.ts";
import type { CertManager } from "../identity/cert-manager.ts";
import type { Network } from "../net/network.ts";
import type { ProxyTuning } from "../tuning.ts";
import { H2Connection } from "../h2/connection.ts";
import { ErrorCode as H2Code } from "../h2/frames.ts";
import type { H2Stream } from "../h2/stream.ts";

/** SETTINGS_MAX_HEADER_LIST_SIZE a client advertises (Istio's ztunnel: 16 KiB); responses are one status. */
const CLIENT_MAX_HEADER_LIST = 16 * 1024;
/** The largest frame we accept (Istio's ztunnel: 1 MiB). */
const MAX_FRAME = 1 << 20;

export interface HboneRequest {
  src: Identity;
  dst: Identity;
  /** Where the TCP connection goes: the destination pod's IP on 15008. */
  target: SockAddr;
  /** :authority, the ip:port the destination ztunnel dials. */
  authority: string;
  headers: Record<string, string>;
}

interface PooledConn {
  conn: H2Connection;
  socket: tls.TLSSocket;
  streams: number;
  idle: NodeJS.Timeout | undefined;
}

interface Bucket {
  conns: PooledConn[];
  dialing: Promise<PooledConn> | undefined;
}

const STATUS_ERRORS: Record<number, (authority: string) => MeshError> = {
  400: (a) => new MeshError(ErrorCode.BadRequest, `destination ztunnel refused CONNECT ${a} as a bad request (400)`),
  401: (a) => new MeshError(ErrorCode.PolicyDenied, `connection to ${a} denied by the destination's authorization policy (401)`),
  503: (a) => new MeshError(ErrorCode.UpstreamConnect, `destination ztunnel could not connect to ${a} (503)`),
};

/** What the pool needs of its proxy (ztunnel or waypoint). */
export interface PoolContext {
  certs: CertManager;
  network: Network;
  tuning: ProxyTuning;
  log: Logger;
}

export class HbonePool {
  private readonly ctx: PoolContext;
  private readonly buckets = new Map<string, Bucket>();
  private closed = false;

  constructor(ctx: PoolContext) {
    this.ctx = ctx;
  }

  /** Opens a CONNECT stream; resolves once the destination answered 200. */
  async open(req: HboneRequest): Promise<H2Stream> {
    if (this.closed) throw new MeshError(ErrorCode.Draining, "ztunnel is shutting down");
    const conn = await this.checkout(req);
    if (conn.idle) {
      clearTimeout(conn.idle);
      conn.idle = undefined;
    }
    let stream: H2Stream;
    try {
      stream = conn.conn.request([[":method", "CONNECT"], [":authority", req.authority], ...Object.entries(req.headers)]);
    } catch (err) {
      this.release(req, conn);
      throw new MeshError(ErrorCode.UpstreamConnect, `could not open an HBONE stream to ${formatAddr(req.target)}`, { cause: err });
    }
    stream.whenClosed(() => this.release(req, conn));
    return new Promise((resolve, reject) => {
      stream.whenClosed((code) =>
        reject(
          new MeshError(
            ErrorCode.UpstreamConnect,
            `HBONE stream to ${req.authority} closed before a response${code === null ? "" : ` (HTTP/2 error ${code})`}`,
          ),
        ),
      );
      stream.onResponse = (status) => {
        if (status === 200) return resolve(stream);
        stream.reset(H2Code.Cancel);
        reject(
          STATUS_ERRORS[status]?.(req.authority) ?? new MeshError(ErrorCode.UpstreamConnect, `destination answered ${status} to CONNECT ${req.authority}`),
        );
      };
    });
  }

  private key(req: HboneRequest): string {
    return `${formatIdentity(req.src)}|${formatIdentity(req.dst)}|${formatAddr(req.target)}`;
  }

  private async checkout(req: HboneRequest): Promise<PooledConn> {
    const key = this.key(req);
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = { conns: [], dialing: undefined };
      this.buckets.set(key, bucket);
    }
    for (;;) {
      // The stream slot is reserved here, synchronously, so concurrent checkouts never overfill a connection.
      const usable = bucket.conns.find((c) => c.streams < this.ctx.tuning.poolMaxStreams && c.conn.usable);
      if (usable) {
        usable.streams++;
        return usable;
      }
      if (!bucket.dialing) {
        const b = bucket;
        b.dialing = this.dial(req, key).then((conn) => {
          b.conns.push(conn);
          return conn;
        });
        b.dialing.then(
          () => (b.dialing = undefined),
          () => (b.dialing = undefined),
        );
        const conn = await b.dialing;
        // Whoever dialed takes the first slot (others may have taken slots meanwhile, within the limit).
        if (conn.streams < this.ctx.tuning.poolMaxStreams) {
          conn.streams++;
          return conn;
        }
        continue;
      }
      // Someone else is dialing this key: share their connection (or, if it fails, dial ourselves).
      await bucket.dialing.catch(() => undefined);
    }
  }

  private release(req: HboneRequest, conn: PooledConn): void {
    conn.streams = Math.max(0, conn.streams - 1);
    if (conn.streams === 0 && !conn.idle && conn.conn.usable) {
      conn.idle = setTimeout(() => {
        this.drop(this.key(req), conn);
        conn.conn.close();
      }, this.ctx.tuning.poolIdleMs);
      conn.idle.unref();
    }
  }

  private drop(key: string, conn: PooledConn): void {
    const bucket = this.buckets.get(key);
    if (!bucket) return;
    bucket.conns = bucket.conns.filter((c) => c !== conn);
    if (bucket.conns.length === 0 && !bucket.dialing) this.buckets.delete(key);
  }

  private async dial(req: HboneRequest, key: string): Promise<PooledConn> {
    const [cert, raw] = await Promise.all([this.ctx.certs.get(req.src), this.ctx.network.connect(req.target, this.ctx.tuning.connectTimeoutMs, false)]);
    const expected = formatIdentity(req.dst);
    const socket = tls.connect({
      socket: raw,
      host: req.target.ip, // an IP: Node sends no SNI, as HBONE requires
      secureContext: cert.context,
      ALPNProtocols: ["h2"],
      minVersion: "TLSv1.3",
      rejectUnauthorized: true,
      checkServerIdentity: (_host, peer) => {
        const ids = uriSans(peer.subjectaltname).map(tryParseIdentity);
        if (ids.length === 1 && ids[0] && formatIdentity(ids[0]) === expected) return undefined;
        return new MeshError(
          ErrorCode.Identity,
          `server at ${formatAddr(req.target)} presented ${uriSans(peer.subjectaltname).join(", ") || "no SPIFFE identity"}, expected ${expected}`,
        );
      },
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new MeshError(ErrorCode.Tls, `TLS handshake with ${formatAddr(req.target)} timed out`));
      }, this.ctx.tuning.handshakeTimeoutMs);
      socket.once("secureConnect", () => {
        clearTimeout(timer);
        resolve();
      });
      socket.once("error", (err) => {
        clearTimeout(timer);
        reject(err instanceof MeshError ? err : new MeshError(ErrorCode.Tls, `TLS handshake with ${formatAddr(req.target)} failed`, { cause: err }));
      });
    });
    if (socket.alpnProtocol !== "h2") {
      socket.destroy();
      throw new MeshError(ErrorCode.Tls, `${formatAddr(req.target)} did not negotiate ALPN h2`);
    }
    const t = this.ctx.tuning;
    const conn: PooledConn = { conn: undefined as unknown as H2Connection, socket, streams: 0, idle: undefined };
    conn.conn = new H2Connection(socket, {
      role: "client",
      settings: {
        streamWindow: t.streamWindow,
        connectionWindow: t.connectionWindow,
        maxFrameSize: MAX_FRAME,
        // A server never opens streams to us; this only bounds a misbehaving one.
        maxConcurrentStreams: t.maxConcurrentStreams,
        maxHeaderListSize: CLIENT_MAX_HEADER_LIST,
      },
      onClose: (err) => {
        clearTimeout(conn.idle);
        this.drop(key, conn);
        if (err) this.ctx.log.debug({ err: describeError(err), "dst.addr": formatAddr(req.target) }, "HBONE connection ended");
      },
    });
    conn.conn.start();
    return conn;
  }

  /** Number of pooled connections, for tests and /config_dump. */
  stats(): Array<{ key: string; connections: number; streams: number }> {
    return [...this.buckets.entries()].map(([key, b]) => ({ key, connections: b.conns.length, streams: b.conns.reduce((n, c) => n + c.streams, 0) }));
  }

  close(): void {
    this.closed = true;
    for (const b of this.buckets.values()) {
      for (const c of b.conns) {
        clearTimeout(c.idle);
        c.conn.close();
      }
    }
    this.buckets.clear();
  }
}
