// What the floor programs (floor-relay.ts, floor-waypoint.ts) share: arguments, the mesh's HTTP/2
// windows, and HBONE's two ends over mutual TLS. node: modules only, so the floors' RSS stays the runtime's.
import { readFileSync } from "node:fs";
import http2 from "node:http2";
import type net from "node:net";
import tls from "node:tls";

// As mesh/proxy/tuning.ts and the HBONE pool/guard set them.
export const STREAM_WINDOW = 1024 * 1024;
export const CONNECTION_WINDOW = 4 * 1024 * 1024;
export const MAX_FRAME = 1 << 20;

/** Our HTTP/2's (mesh/proxy/h2) settings for the floors' HBONE, the mesh's windows and frame size. */
export const OWN_SETTINGS = {
  streamWindow: STREAM_WINDOW,
  connectionWindow: CONNECTION_WINDOW,
  maxFrameSize: MAX_FRAME,
  maxConcurrentStreams: 100,
  maxHeaderListSize: 65_536,
};

export interface HostPort {
  host: string;
  port: number;
}

export interface TlsFiles {
  cert: Buffer;
  key: Buffer;
  ca: Buffer;
}

/** The named option's value, or an error naming the program and the flag. */
export function need(program: string, values: Record<string, unknown>, name: string): string {
  const v = values[name];
  if (typeof v !== "string") throw new Error(`${program}: --${name} is required`);
  return v;
}

export function hostPort(program: string, s: string): HostPort {
  const i = s.lastIndexOf(":");
  const port = Number(s.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port)) throw new Error(`${program}: ${s} is not HOST:PORT`);
  return { host: s.slice(0, i), port };
}

export function tlsFiles(program: string, values: Record<string, unknown>): TlsFiles {
  return { cert: readFileSync(need(program, values, "cert")), key: readFileSync(need(program, values, "key")), ca: readFileSync(need(program, values, "ca")) };
}

/** Mutual TLS 1.3 to `via`; the chain is verified against the CA, the peer's SPIFFE name is not (ztunnel does, cheaply). */
export function clientTls(via: HostPort, alpn: string[], files: TlsFiles): tls.TLSSocket {
  const socket = tls.connect({ host: via.host, port: via.port, ...files, ALPNProtocols: alpn, minVersion: "TLSv1.3", checkServerIdentity: () => undefined });
  socket.setNoDelay(true);
  return socket;
}

/** An HBONE client session to `via` with the mesh's windows. */
export function hboneSession(via: HostPort, files: TlsFiles): http2.ClientHttp2Session {
  const socket = clientTls(via, ["h2"], files);
  const s = http2.connect(`https://${via.host}:${via.port}`, {
    createConnection: () => socket,
    settings: { initialWindowSize: STREAM_WINDOW, maxFrameSize: MAX_FRAME, enablePush: false },
  });
  s.once("connect", () => s.setLocalWindowSize(CONNECTION_WINDOW));
  s.on("error", () => undefined);
  return s;
}

/** An HBONE server (mutual TLS 1.3, HTTP/2) with the mesh's windows. */
export function hboneServer(files: TlsFiles): http2.Http2SecureServer {
  const server = http2.createSecureServer({
    ...files,
    requestCert: true,
    rejectUnauthorized: true,
    minVersion: "TLSv1.3",
    settings: { initialWindowSize: STREAM_WINDOW, maxFrameSize: MAX_FRAME },
  });
  server.on("connection", (s: net.Socket) => s.setNoDelay(true));
  server.on("session", (s) => s.once("localSettings", () => s.setLocalWindowSize(CONNECTION_WINDOW)));
  return server;
}
