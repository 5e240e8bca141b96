// The waypoint's only data-path listener (15008): mTLS with the waypoint's own certificate, HTTP/2,
// CONNECT to the original destination (a service VIP:port or a pod IP:port) as ztunnel sends it.
// Each accepted CONNECT stream becomes a Tunnel that the L7 proxy reads HTTP from. Replies: 200 accepted,
// 400 not CONNECT or an authority that is not ip:port. HTTP/2 is ours (mesh/proxy/h2), as in ztunnel:
// the tunnel is one Duplex over the H2 stream, which http's server (or the h2c front) reads directly.
import net from "node:net";
import type { Duplex } from "node:stream";
import tls from "node:tls";
import { tryParseAddr, type SockAddr } from "../shared/index.ts";
import { describeError } from "../shared/index.ts";
import { formatIdentity, type Identity } from "../shared/index.ts";
import type { Server } from "../shared/index.ts";
import { boundAddress, listen } from "../shared/index.ts";
import type { CertManager } from "../proxy/index.ts";
import { parseForwardedFor } from "../proxy/index.ts";
import { HboneGuard, peerKeyOf, type GuardDeps } from "../proxy/index.ts";
import { createHboneTlsServer, refreshHboneCert, verifyHbonePeer } from "../proxy/index.ts";
import { H2Duplex, headerMap, type H2Stream } from "../proxy/h2/index.ts";

export interface Tunnel {
  /** The CONNECT stream's bytes: the client's HTTP, either version. */
  stream: Duplex;
  /** The authenticated client (the source workload's identity, presented by its ztunnel). */
  peer: Identity;
  /** The original destination the client dialled. */
  authority: SockAddr;
  /** The client's own address, from the `forwarded` header. */
  clientAddr: SockAddr | undefined;
}

export interface HboneListenerDeps extends GuardDeps {
  identity: Identity;
  trustDomain: string;
  certs: CertManager;
  onTunnel: (t: Tunnel) => void;
}

export class WaypointHboneListener implements Server {
  private readonly deps: HboneListenerDeps;
  private readonly where: SockAddr;
  private readonly server: net.Server;
  private tlsServer: tls.Server | undefined;
  private serial = "";
  private readonly guard: HboneGuard;
  private readonly streams = new Set<H2Stream>();

  constructor(deps: HboneListenerDeps, where: SockAddr) {
    this.deps = deps;
    this.where = where;
    this.guard = new HboneGuard(deps);
    this.server = net.createServer((socket) => void this.accept(socket));
    this.server.on("error", (err) => deps.log.error({ err: describeError(err) }, "HBONE listener error"));
  }

  start(): Promise<void> {
    return listen(this.server, this.where);
  }

  address(): SockAddr {
    return boundAddress(this.server);
  }

  private async accept(socket: net.Socket): Promise<void> {
    if (!this.guard.admit(socket)) return;
    try {
      // The certificate may have rotated since the last connection; tls.Server then gets the new one.
      const server = await this.tlsServerForCurrentCert();
      if (!socket.destroyed) server.emit("connection", socket);
    } catch (err) {
      this.deps.peerLog.warn("hbone:no-cert", { err: describeError(err) }, "inbound HBONE connection rejected: no certificate");
      socket.destroy();
    }
  }

  private async tlsServerForCurrentCert(): Promise<tls.Server> {
    const cert = await this.deps.certs.get(this.deps.identity);
    if (this.tlsServer) {
      this.serial = refreshHboneCert(this.tlsServer, this.serial, cert);
      return this.tlsServer;
    }
    const server = createHboneTlsServer(cert);
    this.guard.watchTls(server);
    server.on("secureConnection", (s: tls.TLSSocket) => {
      s.on("error", (err) => this.deps.log.debug({ err: describeError(err) }, "HBONE TLS error"));
      let peer: Identity;
      try {
        peer = verifyHbonePeer(s, this.deps.trustDomain);
      } catch (err) {
        this.deps.peerLog.warn("hbone:rejected", { err: describeError(err), "src.addr": peerKeyOf(s) }, "inbound HBONE connection rejected");
        return this.guard.rejected(s);
      }
      if (this.guard.verified(s, peer)) this.serve(s, peer);
    });
    this.tlsServer = server;
    this.serial = cert.serial;
    return server;
  }

  private serve(socket: tls.TLSSocket, peer: Identity): void {
    this.guard.session(socket, peer, (stream, list) => {
      const headers = headerMap(list);
      const method = headers[":method"];
      const rawAuthority = headers[":authority"];
      const authority = rawAuthority === undefined ? undefined : tryParseAddr(rawAuthority);
      if (method !== "CONNECT" || !authority) {
        this.deps.peerLog.warn(
          "hbone:bad-connect",
          { method, authority: rawAuthority, "src.identity": formatIdentity(peer) },
          "HBONE stream refused: needs CONNECT to ip:port",
        );
        return stream.respond(400);
      }
      stream.respond(200);
      this.streams.add(stream);
      stream.whenClosed(() => this.streams.delete(stream));
      const clientAddr = parseForwardedFor(headers["forwarded"]);
      this.deps.onTunnel({ stream: new H2Duplex(stream), peer, authority, clientAddr });
    });
  }

  private stopAccepting(): void {
    this.server.close();
    this.guard.abortHandshakes();
  }

  /** Stops accepting; open tunnels finish their requests until the deadline. */
  async drain(deadlineMs: number): Promise<void> {
    this.stopAccepting();
    this.guard.goAway();
    const until = Date.now() + deadlineMs;
    while (this.streams.size > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    await this.close();
  }

  async close(): Promise<void> {
    this.stopAccepting();
    this.guard.closeSessions();
  }
}
