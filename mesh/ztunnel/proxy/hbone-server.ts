// Inbound HBONE (15008): terminate mTLS presenting the certificate of the destination workload (chosen by
// the original destination IP, since HBONE sends no SNI), take the source identity from the peer
// certificate, accept HTTP/2 CONNECT to a workload on this node, apply L4 policy, dial the application
// and relay. Replies: 200 connected, 400 bad request, 401 policy deny, 503 upstream connect failed.
import http2 from "node:http2";
import net from "node:net";
import tls from "node:tls";
import { formatAddr, normalizeIp, tryParseAddr, type SockAddr } from "../../shared/addr.ts";
import { describeError, ErrorCode, MeshError } from "../../shared/errors.ts";
import { formatIdentity, type Identity } from "../../shared/identity.ts";
import type { Server } from "../../shared/lifecycle.ts";
import type { WorkloadCert } from "../identity/cert-manager.ts";
import { evaluate } from "../rbac/evaluate.ts";
import { identityOf, type ProxyContext } from "./context.ts";
import { parseForwardedFor } from "./headers.ts";
import { verifyHbonePeer } from "./peer.ts";
import { ConnectionRecord } from "./record.ts";
import { boundAddress, listen } from "../../shared/listen.ts";

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
  private readonly sessions = new Set<http2.ServerHttp2Session>();
  /** Raw sockets whose TLS handshake has not finished, by peer address. */
  private readonly handshaking = new Map<string, net.Socket>();
  private readonly tlsServers = new Map<string, { server: tls.Server; serial: string }>();
  /** Original destination of each accepted socket, by peer address, until its TLS handshake is done. */
  private readonly origByPeer = new Map<string, SockAddr>();

  constructor(ctx: ProxyContext, listen: SockAddr) {
    this.ctx = ctx;
    this.listenHost = listen.ip;
    this.listenPort = listen.port;
    this.server = net.createServer((socket) => void this.accept(socket));
    this.server.on("error", (err) => ctx.log.error({ err: describeError(err) }, "HBONE listener error"));
  }

  start(): Promise<void> {
    return listen(this.server, { ip: this.listenHost, port: this.listenPort });
  }

  address(): SockAddr {
    return boundAddress(this.server);
  }

  private async accept(socket: net.Socket): Promise<void> {
    socket.on("error", () => undefined); // errors surface through the TLS socket or end the connection
    const srcAddr = `${normalizeIp(socket.remoteAddress ?? "")}:${socket.remotePort}`;
    this.handshaking.set(srcAddr, socket);
    socket.once("close", () => this.handshaking.delete(srcAddr));
    try {
      const orig = await this.ctx.network.originalDst(socket);
      const dst = this.ctx.state.current.workloadByIp(orig.ip);
      if (!dst || !this.ctx.serves(dst)) {
        throw new MeshError(ErrorCode.BadRequest, `${orig.ip} is not an HBONE workload this proxy serves (node ${this.ctx.node}); no certificate to present`);
      }
      const server = this.tlsServerFor(await this.ctx.certs.get(identityOf(dst)));
      this.origByPeer.set(srcAddr, orig);
      socket.once("close", () => this.origByPeer.delete(srcAddr));
      server.emit("connection", socket);
    } catch (err) {
      this.ctx.log.warn({ err: describeError(err), "src.addr": srcAddr }, "inbound HBONE connection rejected");
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
    const options = { cert: cert.chainPem.filter((c) => !cert.roots.includes(c)).join(""), key: cert.keyPem, ca: cert.roots };
    if (known) {
      if (known.serial !== cert.serial) {
        known.server.setSecureContext(options);
        known.serial = cert.serial;
      }
      return known.server;
    }
    const server = tls.createServer({
      ...options,
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: "TLSv1.3",
      ALPNProtocols: ["h2"],
      handshakeTimeout: this.ctx.tuning.handshakeTimeoutMs,
    });
    server.on("tlsClientError", (err, s) => {
      this.ctx.log.warn({ err: describeError(err), "src.addr": `${normalizeIp(s.remoteAddress ?? "")}:${s.remotePort}`, "dst.identity": key }, "inbound HBONE TLS handshake failed");
    });
    server.on("secureConnection", (s: tls.TLSSocket) => {
      s.on("error", (err) => this.ctx.log.debug({ err: describeError(err) }, "HBONE TLS error"));
      const peerKey = `${normalizeIp(s.remoteAddress ?? "")}:${s.remotePort}`;
      const orig = this.origByPeer.get(peerKey);
      this.handshaking.delete(peerKey);
      this.origByPeer.delete(peerKey);
      try {
        if (!orig) throw new MeshError(ErrorCode.OriginalDst, "connection lost its original destination");
        this.serve({ socket: s, identity: verifyHbonePeer(s, this.ctx.trustDomain), orig });
      } catch (err) {
        this.ctx.log.warn({ err: describeError(err), "src.addr": peerKey }, "inbound HBONE connection rejected");
        s.destroy();
      }
    });
    this.tlsServers.set(key, { server, serial: cert.serial });
    return server;
  }

  private serve(peer: Peer): void {
    const session = http2.performServerHandshake(peer.socket, {
      settings: { initialWindowSize: this.ctx.tuning.streamWindow, maxFrameSize: 1 << 20, maxHeaderListSize: 64 * 1024 },
    });
    this.sessions.add(session);
    session.on("close", () => this.sessions.delete(session));
    session.on("error", (err) => this.ctx.log.debug({ err: describeError(err), "src.identity": formatIdentity(peer.identity) }, "HBONE session error"));
    session.on("localSettings", () => {
      try {
        session.setLocalWindowSize(this.ctx.tuning.connectionWindow);
      } catch {
        // session already closing
      }
    });
    session.on("stream", (stream, headers) => {
      stream.on("error", () => undefined);
      this.onStream(peer, stream, headers).catch((err) => {
        this.ctx.log.error({ err: describeError(err) }, "HBONE stream handler failed");
        if (!stream.destroyed) stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
      });
    });
  }

  private async onStream(peer: Peer, stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): Promise<void> {
    const ctx = this.ctx;
    const state = ctx.state.current;
    const forwardedFor = parseForwardedFor(headers["forwarded"]);
    const srcIp = forwardedFor?.ip ?? normalizeIp(peer.socket.remoteAddress ?? "");
    const srcWorkload = forwardedFor ? state.workloadByIp(forwardedFor.ip) : undefined;
    // Source workload labels only when the workload really is the peer we authenticated.
    const src = srcWorkload && formatIdentity(identityOf(srcWorkload)) === formatIdentity(peer.identity) ? srcWorkload : undefined;
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
      if (!stream.destroyed && !stream.headersSent) stream.respond({ ":status": status }, { endStream: true });
    };

    if (headers[":method"] !== "CONNECT") {
      return reply(400, new MeshError(ErrorCode.BadRequest, `HBONE needs CONNECT, got ${String(headers[":method"])}`), "-");
    }
    if (!authority) return reply(400, new MeshError(ErrorCode.BadRequest, `authority "${String(headers[":authority"])}" is not ip:port`), "-");
    if (authority.ip !== peer.orig.ip) {
      return reply(400, new MeshError(ErrorCode.BadRequest, `authority ${formatAddr(authority)} does not match the connection's destination ${peer.orig.ip}`), "-");
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
      return reply(401, new MeshError(ErrorCode.PolicyDenied, `connection rejected by policy${decision.policy ? ` ${decision.policy}` : " (no ALLOW policy matched)"}`), "DENY");
    }
    let upstream: net.Socket;
    try {
      upstream = await ctx.network.connect(authority, ctx.tuning.connectTimeoutMs);
    } catch (err) {
      return reply(503, err instanceof MeshError ? err : new MeshError(ErrorCode.UpstreamConnect, "upstream connect failed", { cause: err }), "CONNECT");
    }
    if (stream.destroyed) {
      upstream.destroy();
      return record.fail("-", new MeshError(ErrorCode.BadRequest, "client went away before the upstream connected"));
    }
    stream.respond({ ":status": 200 });
    await record.relay(stream, upstream, facts);
  }

  /** Closes the listener and abandons handshakes in progress; established sessions keep serving. */
  stopAccepting(): void {
    this.server.close();
    for (const s of this.handshaking.values()) s.destroy();
  }

  async drain(deadlineMs: number): Promise<void> {
    this.stopAccepting();
    await this.ctx.tracker.waitIdle(deadlineMs);
    await this.close();
  }

  async close(): Promise<void> {
    this.stopAccepting();
    for (const session of this.sessions) {
      // GOAWAY first so the peer sees an orderly end, then tear down whatever is still open.
      if (!session.destroyed) session.close();
      setTimeout(() => session.destroy(), 1000).unref();
    }
  }
}
