#!/usr/bin/env node
// The least a Node.js HBONE relay can be, for bench:floor: TCP in, one HTTP/2 CONNECT stream per
// connection over one mutual-TLS session (TLS 1.3, ALPN h2, the mesh's window and frame sizes), TCP out,
// and nothing else: no capture, policy, metrics, logs, certificate rotation or config. What it costs
// under the bench's load is the floor that node:net, node:tls and node:http2 set for ztunnel.
// It imports node: modules only, so its RSS is the runtime's and theirs.
// With --framing tls there is no HTTP/2 at all: one mutual-TLS connection per TCP connection, its first
// line naming the target. That is below any HBONE relay (HBONE is TLS plus framing): what a relay with
// our own HTTP/2 framing could at best approach.
//   out: --route LPORT=HOST:PORT (repeatable) --listen IP --via IP:PORT   each LPORT tunnels to HOST:PORT via the `in` relay
//   in:  --listen IP:PORT                                                  serves CONNECT, dials the authority
// both: --cert FILE --key FILE --ca FILE [--framing h2|tls]
import { readFileSync } from "node:fs";
import http2 from "node:http2";
import net from "node:net";
import tls from "node:tls";
import { parseArgs } from "node:util";

// As mesh/proxy/tuning.ts and the HBONE pool/guard set them.
const STREAM_WINDOW = 1024 * 1024;
const CONNECTION_WINDOW = 4 * 1024 * 1024;
const MAX_FRAME = 1 << 20;

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    route: { type: "string", multiple: true },
    listen: { type: "string" },
    via: { type: "string" },
    cert: { type: "string" },
    key: { type: "string" },
    ca: { type: "string" },
    framing: { type: "string", default: "h2" },
  },
});

function need(name: keyof typeof values): string {
  const v = values[name];
  if (typeof v !== "string") throw new Error(`floor-relay: --${name} is required`);
  return v;
}

function hostPort(s: string): { host: string; port: number } {
  const i = s.lastIndexOf(":");
  const port = Number(s.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port)) throw new Error(`floor-relay: ${s} is not HOST:PORT`);
  return { host: s.slice(0, i), port };
}

const tlsFiles = { cert: readFileSync(need("cert")), key: readFileSync(need("key")), ca: readFileSync(need("ca")) };

function relay(a: net.Socket, b: NodeJS.ReadWriteStream & { destroy(): void }): void {
  a.pipe(b).on("error", () => a.destroy());
  b.pipe(a);
  a.on("error", () => b.destroy());
  a.on("close", () => b.destroy());
}

const clientTls = (via: { host: string; port: number }, alpn: string[]): tls.TLSSocket => {
  // The chain is verified against the CA; the peer's SPIFFE name is not checked (ztunnel does, cheaply).
  const socket = tls.connect({ host: via.host, port: via.port, ...tlsFiles, ALPNProtocols: alpn, minVersion: "TLSv1.3", checkServerIdentity: () => undefined });
  socket.setNoDelay(true);
  return socket;
};

function runOutTls(): void {
  const via = hostPort(need("via"));
  for (const r of values.route ?? []) {
    const [port, target] = r.split("=");
    hostPort(target ?? "");
    net
      .createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
        const up = clientTls(via, []);
        up.write(`${target}\n`);
        relay(socket, up);
      })
      .listen(Number(port), need("listen"));
  }
}

function runInTls(): void {
  const where = hostPort(need("listen"));
  const server = tls.createServer({ ...tlsFiles, requestCert: true, rejectUnauthorized: true, minVersion: "TLSv1.3", allowHalfOpen: true });
  server.on("secureConnection", (s: tls.TLSSocket) => {
    s.setNoDelay(true);
    s.on("error", () => s.destroy());
    // The out relay writes the target line first, in one write: it arrives in the first record.
    s.once("data", (first: Buffer) => {
      const nl = first.indexOf(10);
      if (nl < 0) return s.destroy();
      const { host, port } = hostPort(first.subarray(0, nl).toString("latin1"));
      const socket = net.connect({ host, port, allowHalfOpen: true, noDelay: true });
      if (nl + 1 < first.length) socket.write(first.subarray(nl + 1));
      relay(socket, s);
    });
  });
  server.listen(where.port, where.host);
}

function runOut(): void {
  const via = hostPort(need("via"));
  let session: http2.ClientHttp2Session | undefined;
  const connect = (): http2.ClientHttp2Session => {
    if (session && !session.closed && !session.destroyed) return session;
    const socket = clientTls(via, ["h2"]);
    const s = http2.connect(`https://${via.host}:${via.port}`, {
      createConnection: () => socket,
      settings: { initialWindowSize: STREAM_WINDOW, maxFrameSize: MAX_FRAME, enablePush: false },
    });
    s.once("connect", () => s.setLocalWindowSize(CONNECTION_WINDOW));
    s.on("error", () => undefined);
    session = s;
    return s;
  };
  for (const r of values.route ?? []) {
    const [port, target] = r.split("=");
    hostPort(target ?? "");
    net
      .createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
        const stream = connect().request({ ":method": "CONNECT", ":authority": target! }, { endStream: false });
        stream.on("error", () => socket.destroy());
        relay(socket, stream);
      })
      .listen(Number(port), need("listen"));
  }
}

function runIn(): void {
  const where = hostPort(need("listen"));
  const server = http2.createSecureServer({
    ...tlsFiles,
    requestCert: true,
    rejectUnauthorized: true,
    minVersion: "TLSv1.3",
    settings: { initialWindowSize: STREAM_WINDOW, maxFrameSize: MAX_FRAME },
  });
  server.on("connection", (s: net.Socket) => s.setNoDelay(true));
  server.on("session", (s) => s.once("localSettings", () => s.setLocalWindowSize(CONNECTION_WINDOW)));
  server.on("stream", (stream, headers) => {
    const { host, port } = hostPort(String(headers[":authority"]));
    const socket = net.connect({ host, port, allowHalfOpen: true, noDelay: true });
    socket.once("connect", () => stream.respond({ ":status": 200 }));
    stream.on("error", () => socket.destroy());
    relay(socket, stream);
  });
  server.listen(where.port, where.host);
}

const modes: Record<string, () => void> = { "out h2": runOut, "in h2": runIn, "out tls": runOutTls, "in tls": runInTls };
const mode = modes[`${positionals[0]} ${values.framing}`];
if (!mode) throw new Error("floor-relay: the first argument is `out` or `in`, --framing h2 or tls");
mode();
