// Inbound HBONE (15008): terminate mTLS presenting the certificate of the destination workload (chosen by
// the original destination IP, since HBONE sends no SNI), take the source identity from the peer
// certificate, accept HTTP/2 CONNECT to a workload on this node, apply L4 policy, dial the application
// and relay. Replies: 200 connected, 400 bad request, 401 policy deny, 503 upstream connect failed.
import net from "node:net";
import tls from "node:tls";
import { formatAddr, normalizeIp, tryParseAddr, type SockAddr } from "../../shared/index.ts";
import { describeError, ErrorCode, MeshError } from "../../shared/index.ts";
import { formatIdentity, type Identity } from "../../shared/index.ts";
import type { Server } from "../../shared/index.ts";
import type { WorkloadCert } from "../../proxy/index.ts";
import { evaluate } from "../rbac/evaluate.ts";
import { type ProxyContext } from "./context.ts";
import { identityOf } from "../../proxy/index.ts";
import { parseForwardedFor } from "../../proxy/index.ts";
import { createHboneTlsServer, refreshHboneCert, verifyHbonePeer } from "../../proxy/index.ts";
import { ConnectionRecord } from "./record.ts";
import { boundAddress, listen } from "../../shared/index.ts";
import { HboneGuard, peerKeyOf } from "../../proxy/index.ts";
import { H2ErrorCode, headerMap, type H2Stream, type HeaderList } from "../../proxy/index.ts";

interface Peer {
  socket: tls.TLSSocket;
  identity: Identity;
  /** Where the connection was headed: a local workload's IP and the HBONE port. */
  orig: SockAddr;
}

export class HboneServer implements Server {
  private readonly ctx: ProxyContext;
  private readonly listenHost: string;
  private readonly listenPort: number;
  private readonly server: net.Server;
  private readonly guard: HboneGuard;
  private readonly tlsServers = new Map<string, { server: tls.Server; serial: string }>();
  /** Original destination per peer address (unique while the TCP connection lives) until TLS is done. */
  private readonly origByPeer = new Map<string, SockAddr>();

  constructor(ctx: ProxyContext, listen: SockAddr) {
    this.ctx = ctx;
    this.listenHost = listen.ip;
    this.listenPort = listen.port;
    this.guard = new HboneGuard(ctx);
    this.server = net.createServer((socket) => void this.accept(socket));
    this.server.on("error", (err) => ctx.log.error({ err: describeError(err) }, "HBONE listener error"));
  }

  start(): Promise<void> {
    return listen(this.server, { ip: this.listenHost, port: this.listenPort });
  }

  address(): SockAddr {
    return boundAddress(this.server);
  }

  stats(): ReturnType<HboneGuard["stats"]> {
    return this.guard.stats();
  }

  private async accept(socket: net.Socket): Promise<void> {
    if (!this.guard.admit(socket)) return;
    const peer = peerKeyOf(socket);
    socket.once("close", () => this.origByPeer.delete(peer));
    try {
      const orig = await this.ctx.network.originalDst(socket);
      const dst = this.ctx.state.current.workloadByIp(orig.ip);
      if (!dst || !this.ctx.serves(dst)) {
        throw new MeshError(ErrorCode.BadRequest, `${orig.ip} is not an HBONE workload this proxy serves (node ${this.ctx.node}); no certificate to present`);
      }
      const server = this.tlsServerFor(await this.ctx.certs.get(identityOf(dst)));
      if (socket.destroyed) return;
      this.origByPeer.set(peer, orig);
      server.emit("connection", socket);
    } catch (err) {
      this.ctx.peerLog.warn("hbone:rejected", { err: describeError(err), "src.addr": peer }, "inbound HBONE connection rejected");
      socket.destroy();
    }
  }

  /**
   * One tls.Server per local identity, fed accepted sockets by hand: HBONE sends no SNI, so the
   * certificate is chosen by the original destination before the handshake starts. tls.Server then
   * does the client-certificate checks (chain to our roots, rejectUnauthorized) with public APIs.
   */
  private tlsServerFor(cert: WorkloadCert): tls.Server {
    const key = formatIdentity(cert.identity);
    const known = this.tlsServers.get(key);
    if (known) {
      known.serial = refreshHboneCert(known.server, known.serial, cert);
      return known.server;
    }
    const server = createHboneTlsServer(cert);
    this.guard.watchTls(server, { "dst.identity": key });
    server.on("secureConnection", (s: tls.TLSSocket) => {
      s.on("error", (err) => this.ctx.log.debug({ err: describeError(err) }, "HBONE TLS error"));
      const peerKey = peerKeyOf(s);
      const orig = this.origByPeer.get(peerKey);
      this.origByPeer.delete(peerKey);
      let identity: Identity;
      try {
        if (!orig) throw new MeshError(ErrorCode.OriginalDst, "connection lost its original destination");
        identity = verifyHbonePeer(s, this.ctx.trustDomain);
      } catch (err) {
        this.ctx.peerLog.warn("hbone:rejected", { err: describeError(err), "src.addr": peerKey }, "inbound HBONE connection rejected");
        return this.guard.rejected(s);
      }
      if (!this.guard.verified(s, identity)) return;
      const peer: Peer = { socket: s, identity, orig };
      this.guard.session(s, identity, (stream, headers) => {
        this.onStream(peer, stream, headers).catch((err) => {
          this.ctx.log.error({ err: describeError(err) }, "HBONE stream handler failed");
          stream.reset(H2ErrorCode.InternalError);
        });
      });
    });
    this.tlsServers.set(key, { server, serial: cert.serial });
    return server;
  }

  private async onStream(peer: Peer, stream: H2Stream, list: HeaderList): Promise<void> {
    const ctx = this.ctx;
    const state = ctx.state.current;
    const headers = headerMap(list);
    const claimed = parseForwardedFor(headers["forwarded"]);
    // A claimed source address counts only if it belongs to a workload with the peer's own identity
    // (the peer's node ztunnel speaks with that identity): otherwise any certificate holder could pick
    // the address that sourceIps policies check (finding 6). Else the address we saw is what we know.
    const claimedWorkload = claimed ? state.workloadByIp(claimed.ip) : undefined;
    const src = claimedWorkload && formatIdentity(identityOf(claimedWorkload)) === formatIdentity(peer.identity) ? claimedWorkload : undefined;
    const forwardedFor = src ? claimed : undefined;
    const srcIp = forwardedFor?.ip ?? normalizeIp(peer.socket.remoteAddress ?? "");
    if (claimed && !src) {
      ctx.peerLog.info(
        "hbone:forwarded",
        { "src.identity": formatIdentity(peer.identity), claimed: formatAddr(claimed) },
        "ignoring a forwarded address the peer's identity does not own",
      );
    }
    const authority = typeof headers[":authority"] === "string" ? tryParseAddr(headers[":authority"]) : undefined;
    const dst = authority ? state.workloadByIp(authority.ip) : undefined;
    const dstService = dst ? state.servicesOf(dst)[0] : undefined;
    const record = new ConnectionRecord(ctx, {
      direction: "inbound",
      srcAddr: forwardedFor ? formatAddr(forwardedFor) : `${srcIp}:${peer.socket.remotePort}`,
      dstAddr: authority ? formatAddr(authority) : String(headers[":authority"] ?? ""),
      hboneAddr: formatAddr(peer.orig),
      ...(src ? { srcWorkload: src } : {}),
      srcIdentity: peer.identity,
      ...(dst ? { dstWorkload: dst, dstIdentity: identityOf(dst) } : {}),
      ...(dstService ? { dstService } : {}),
      mtls: true,
    });
    const reply = (status: number, err: MeshError, flag: "-" | "DENY" | "CONNECT") => {
      record.fail(flag, err);
      stream.respond(status);
    };

    if (headers[":method"] !== "CONNECT") {
      return reply(400, new MeshError(ErrorCode.BadRequest, `HBONE needs CONNECT, got ${String(headers[":method"])}`), "-");
    }
    if (!authority) return reply(400, new MeshError(ErrorCode.BadRequest, `authority "${String(headers[":authority"])}" is not ip:port`), "-");
    if (authority.ip !== peer.orig.ip) {
      return reply(
        400,
        new MeshError(ErrorCode.BadRequest, `authority ${formatAddr(authority)} does not match the connection's destination ${peer.orig.ip}`),
        "-",
      );
    }
    if (!dst || !ctx.serves(dst)) {
      return reply(400, new MeshError(ErrorCode.BadRequest, `authority ${formatAddr(authority)} is not a workload this proxy serves (node ${ctx.node})`), "-");
    }
    if (ctx.illegalPorts.has(authority.port)) {
      return reply(400, new MeshError(ErrorCode.SelfCall, `port ${authority.port} is a ztunnel port; refusing to loop`), "-");
    }
    const facts = { srcIdentity: peer.identity, srcIp, dstIp: authority.ip, dstPort: authority.port };
    const decision = evaluate(state.policiesFor(dst), facts);
    if (!decision.allowed) {
      return reply(
        401,
        new MeshError(ErrorCode.PolicyDenied, `connection rejected by policy${decision.policy ? ` ${decision.policy}` : " (no ALLOW policy matched)"}`),
        "DENY",
      );
    }
    let upstream: net.Socket;
    try {
      upstream = await ctx.network.connect(authority, ctx.tuning.connectTimeoutMs);
    } catch (err) {
      return reply(503, err instanceof MeshError ? err : new MeshError(ErrorCode.UpstreamConnect, "upstream connect failed", { cause: err }), "CONNECT");
    }
    if (stream.isClosed) {
      upstream.destroy();
      return record.fail("-", new MeshError(ErrorCode.BadRequest, "client went away before the upstream connected"));
    }
    stream.respond(200);
    await record.relay(stream, upstream, facts);
  }

  /** Closes the listener and abandons handshakes in progress; established sessions keep serving. */
  stopAccepting(): void {
    this.server.close();
    this.guard.abortHandshakes();
  }

  async drain(deadlineMs: number): Promise<void> {
    this.stopAccepting();
    await this.ctx.tracker.waitIdle(deadlineMs);
    await this.close();
  }

  async close(): Promise<void> {
    this.stopAccepting();
    this.guard.closeSessions();
  }
}
