// What an HBONE server (ztunnel's 15008, the waypoint's 15008) bounds for every peer, in one place:
//   before the peer is verified: connections per source address, handshakes in progress per source
//     address, and one deadline from accept to a verified peer (then the socket is destroyed);
//   after: sessions per source identity, SETTINGS_MAX_CONCURRENT_STREAMS and the header list size
//     (our HTTP/2 refuses streams and header blocks past them), and an idle timeout for sessions without
//     streams. Whatever ends the socket ends the session and its streams, and the reverse, so a peer that
//     vanishes, half-closes or resets leaves nothing behind.
import type net from "node:net";
import type tls from "node:tls";
import { normalizeIp } from "../../shared/index.ts";
import { describeError } from "../../shared/index.ts";
import { formatIdentity, type Identity } from "../../shared/index.ts";
import { KeyedCounter, type RateLimitedLog } from "../../shared/index.ts";
import type { Logger } from "../../shared/index.ts";
import type { LimitHit, LimitKind, ProxyTuning } from "../tuning.ts";
import { H2Connection } from "../h2/connection.ts";
import type { HeaderList } from "../h2/hpack.ts";
import type { H2Stream } from "../h2/stream.ts";

export interface GuardDeps {
  limitHit: LimitHit;
  /** Warnings about what peers did, rate-limited per kind of event. */
  peerLog: RateLimitedLog;
  tuning: ProxyTuning;
  log: Logger;
}

/** The one way a proxy reports a limit hit: counted per limit, logged rate-limited per limit. */
export function limitReporter(counter: { inc(labels: { limit: LimitKind }): void }, peerLog: RateLimitedLog): LimitHit {
  return (limit, fields, msg) => {
    counter.inc({ limit });
    peerLog.warn(`limit:${limit}`, { limit, ...fields }, msg);
  };
}

export function peerKeyOf(s: net.Socket): string {
  return `${normalizeIp(s.remoteAddress ?? "")}:${s.remotePort}`;
}

export class HboneGuard {
  private readonly deps: GuardDeps;
  private readonly perSource: KeyedCounter;
  private readonly handshakesPerSource: KeyedCounter;
  private readonly perIdentity: KeyedCounter;
  /**
   * Every admitted connection until it ends, by peer address (unique while it lives). Once a raw socket
   * is handed to tls.Server the TLS socket owns its handle and the raw socket may never emit "close",
   * so each way a connection can end (raw close, TLS error, deadline, TLS close) releases it here.
   */
  private readonly admitted = new Map<string, { raw: net.Socket; handshaking: boolean; endHandshake(): void; release(): void }>();
  /** Open HTTP/2 connections, each as what drain and close need of it. */
  private readonly sessions = new Set<{ goAway(): void; close(): void }>();

  constructor(deps: GuardDeps) {
    this.deps = deps;
    this.perSource = new KeyedCounter(deps.tuning.maxConnectionsPerSource);
    this.handshakesPerSource = new KeyedCounter(deps.tuning.maxHandshakesPerSource);
    this.perIdentity = new KeyedCounter(deps.tuning.maxSessionsPerIdentity);
  }

  /**
   * Takes the source-address slots for a freshly accepted socket and starts its handshake deadline.
   * Returns false (the socket already destroyed) when the source is over a limit.
   */
  admit(socket: net.Socket): boolean {
    socket.on("error", () => undefined); // errors surface through the TLS socket or end the connection
    socket.setNoDelay(true);
    const srcIp = normalizeIp(socket.remoteAddress ?? "");
    const peer = peerKeyOf(socket);
    const releaseSource = this.perSource.acquire(srcIp);
    if (!releaseSource) {
      this.deps.limitHit(
        "connections_per_source",
        { "src.addr": peer, max: this.perSource.max },
        "HBONE connection refused: too many connections from this address",
      );
      socket.destroy();
      return false;
    }
    const releaseHandshake = this.handshakesPerSource.acquire(srcIp);
    if (!releaseHandshake) {
      releaseSource();
      this.deps.limitHit(
        "handshakes_per_source",
        { "src.addr": peer, max: this.handshakesPerSource.max },
        "HBONE connection refused: too many handshakes in progress from this address",
      );
      socket.destroy();
      return false;
    }
    const ms = this.deps.tuning.handshakeTimeoutMs;
    const entry = {
      raw: socket,
      handshaking: true,
      endHandshake: () => {
        if (!entry.handshaking) return;
        entry.handshaking = false;
        clearTimeout(timer);
        releaseHandshake();
      },
      release: () => {
        entry.endHandshake();
        releaseSource();
        if (this.admitted.get(peer) === entry) this.admitted.delete(peer);
      },
    };
    const timer = setTimeout(() => {
      this.deps.limitHit("handshake_timeout", { "src.addr": peer, ms }, "HBONE handshake timed out; connection closed");
      socket.destroy();
      entry.release();
    }, ms);
    this.admitted.set(peer, entry);
    socket.once("close", entry.release);
    return true;
  }

  /** tls.Server's handlers for sockets fed to it by hand: a failed handshake destroys the socket (finding 2). */
  watchTls(server: tls.Server, label: Record<string, unknown> = {}): void {
    server.on("tlsClientError", (err, s) => {
      s.destroy();
      this.admitted.get(peerKeyOf(s))?.release();
      this.deps.peerLog.warn("hbone:tls", { err: describeError(err), "src.addr": peerKeyOf(s), ...label }, "inbound HBONE TLS handshake failed");
    });
  }

  /**
   * The TLS handshake of `s` finished: ends its handshake phase and takes a session slot for the peer's
   * identity. Returns false (the socket destroyed) when that identity holds too many sessions.
   */
  verified(s: tls.TLSSocket, identity: Identity): boolean {
    const entry = this.admitted.get(peerKeyOf(s));
    entry?.endHandshake();
    if (entry) s.once("close", entry.release);
    const id = formatIdentity(identity);
    const release = this.perIdentity.acquire(id);
    if (!release) {
      this.deps.limitHit(
        "sessions_per_identity",
        { "src.identity": id, "src.addr": peerKeyOf(s), max: this.perIdentity.max },
        "HBONE session refused: too many sessions for this identity",
      );
      s.destroy();
      return false;
    }
    s.once("close", release);
    return true;
  }

  /** The TLS handshake of `s` finished but the peer is refused. */
  rejected(s: tls.TLSSocket): void {
    s.destroy();
    this.admitted.get(peerKeyOf(s))?.release();
  }

  /**
   * Runs HTTP/2 (ours, mesh/proxy/h2) on a verified socket: bounded SETTINGS, resets per second, the
   * idle timeout for a connection without streams, and the socket and connection ending together.
   */
  session(socket: tls.TLSSocket, identity: Identity, onStream: (stream: H2Stream, headers: HeaderList) => void): H2Connection {
    const t = this.deps.tuning;
    let open = 0;
    let idle: NodeJS.Timeout | undefined;
    const conn = new H2Connection(socket, {
      role: "server",
      settings: {
        streamWindow: t.streamWindow,
        connectionWindow: t.connectionWindow,
        maxFrameSize: 1 << 20,
        maxConcurrentStreams: t.maxConcurrentStreams,
        maxHeaderListSize: t.maxHeaderListSize,
      },
      onStream: (stream, headers) => {
        open++;
        clearTimeout(idle);
        stream.whenClosed(() => {
          if (--open === 0) armIdle();
        });
        onStream(stream, headers);
      },
      onClose: (err) => {
        clearTimeout(idle);
        this.sessions.delete(handle);
        if (!socket.destroyed) setTimeout(() => socket.destroy(), 1000).unref();
        if (err) this.deps.log.debug({ err: describeError(err), "src.identity": formatIdentity(identity) }, "HBONE connection ended");
      },
    });
    const handle = {
      goAway: () => conn.close(),
      // GOAWAY, then the socket goes after a grace period even if streams or the peer linger.
      close: () => {
        conn.close();
        setTimeout(() => conn.destroy(), 1000).unref();
      },
    };
    this.sessions.add(handle);
    const armIdle = () => {
      clearTimeout(idle);
      idle = setTimeout(() => {
        if (open > 0 || !conn.usable) return;
        this.deps.limitHit("session_idle", { "src.identity": formatIdentity(identity), ms: t.sessionIdleMs }, "idle HBONE session closed");
        handle.close();
      }, t.sessionIdleMs);
      idle.unref();
    };
    armIdle();
    socket.once("close", () => conn.destroy());
    conn.start();
    return conn;
  }

  /** Abandons handshakes in progress (the listener has stopped accepting). */
  abortHandshakes(): void {
    for (const e of [...this.admitted.values()]) {
      if (!e.handshaking) continue;
      e.raw.destroy();
      e.release();
    }
  }

  /** GOAWAY to every session: no new streams; open ones finish. */
  goAway(): void {
    for (const s of this.sessions) s.goAway();
  }

  /** GOAWAY to every session, then their sockets are destroyed after a grace period. */
  closeSessions(): void {
    for (const s of [...this.sessions]) s.close();
  }

  stats(): { handshaking: number; sessions: number; sources: number; identities: number } {
    return {
      handshaking: [...this.admitted.values()].filter((e) => e.handshaking).length,
      sessions: this.sessions.size,
      sources: this.perSource.size,
      identities: this.perIdentity.size,
    };
  }
}
