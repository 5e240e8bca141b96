#!/usr/bin/env node
// The least a Node.js HBONE relay can be, for bench:floor: TCP in, one HTTP/2 CONNECT stream per
// connection over one mutual-TLS session (TLS 1.3, ALPN h2, the mesh's window and frame sizes), TCP out,
// and nothing else: no capture, policy, metrics, logs, certificate rotation or config. What it costs
// under the bench's load is the floor that node:net, node:tls and node:http2 set for ztunnel.
// It imports node: modules only, so its RSS is the runtime's and theirs.
// With --framing tls there is no HTTP/2 at all: one mutual-TLS connection per TCP connection, its first
// line naming the target. That is below any HBONE relay (HBONE is TLS plus framing): what a relay with
// our own HTTP/2 framing could at best approach. With --framing own, HBONE is framed by mesh/proxy/h2 (our
// own HTTP/2, node: modules only) straight on the TLS socket, moving chunks without stream layers.
//   out: --route LPORT=HOST:PORT (repeatable) --listen IP --via IP:PORT   each LPORT tunnels to HOST:PORT via the `in` relay
//   in:  --listen IP:PORT                                                  serves CONNECT, dials the authority
// both: --cert FILE --key FILE --ca FILE [--framing h2|tls]
import type http2 from "node:http2";
import net from "node:net";
import tls from "node:tls";
import { parseArgs } from "node:util";
import { H2Connection, type H2Stream } from "../mesh/proxy/h2/index.ts";
import {
  clientTls as mutualTls,
  hboneServer,
  hboneSession,
  hostPort as parseHostPort,
  need as needArg,
  OWN_SETTINGS,
  tlsFiles as readTlsFiles,
} from "./floor-common.ts";

const PROGRAM = "floor-relay";

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

const need = (name: keyof typeof values) => needArg(PROGRAM, values, name);
const hostPort = (s: string) => parseHostPort(PROGRAM, s);
const tlsFiles = readTlsFiles(PROGRAM, values);

function relay(a: net.Socket, b: NodeJS.ReadWriteStream & { destroy(): void }): void {
  a.pipe(b).on("error", () => a.destroy());
  b.pipe(a);
  a.on("error", () => b.destroy());
  a.on("close", () => b.destroy());
}

const clientTls = (via: { host: string; port: number }, alpn: string[]): tls.TLSSocket => mutualTls(via, alpn, tlsFiles);

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
    const s = hboneSession(via, tlsFiles);
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
  const server = hboneServer(tlsFiles);
  server.on("stream", (stream, headers) => {
    const { host, port } = hostPort(String(headers[":authority"]));
    const socket = net.connect({ host, port, allowHalfOpen: true, noDelay: true });
    socket.once("connect", () => stream.respond({ ":status": 200 }));
    stream.on("error", () => socket.destroy());
    relay(socket, stream);
  });
  server.listen(where.port, where.host);
}

/** Moves bytes between a TCP socket and one of our HTTP/2 streams, with backpressure both ways. */
function relayOwn(socket: net.Socket, stream: H2Stream): void {
  socket.on("data", (c: Buffer) => {
    if (!stream.write(c)) {
      socket.pause();
      stream.onDrain = () => socket.resume();
    }
  });
  socket.on("end", () => stream.end());
  socket.on("error", () => stream.reset());
  socket.on("close", () => stream.reset());
  stream.attach({
    data: (c) => void socket.write(c, () => stream.consumed(c.length)),
    end: () => socket.end(),
    close: (code) => (code === null ? undefined : socket.destroy()),
  });
}

function runOutOwn(): void {
  const via = hostPort(need("via"));
  let conn: H2Connection | undefined;
  const connect = (): H2Connection => {
    if (conn?.usable) return conn;
    const socket = clientTls(via, ["h2"]);
    const c = new H2Connection(socket, { role: "client", settings: OWN_SETTINGS });
    // A TLS socket queues what is written before its handshake is done: the preface goes out after it.
    c.start();
    conn = c;
    return c;
  };
  for (const r of values.route ?? []) {
    const [port, target] = r.split("=");
    hostPort(target ?? "");
    net
      .createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
        const stream = connect().request([
          [":method", "CONNECT"],
          [":authority", target!],
        ]);
        socket.pause();
        stream.onResponse = (status) => (status === 200 ? socket.resume() : socket.destroy());
        relayOwn(socket, stream);
      })
      .listen(Number(port), need("listen"));
  }
}

function runInOwn(): void {
  const where = hostPort(need("listen"));
  const server = tls.createServer({ ...tlsFiles, requestCert: true, rejectUnauthorized: true, minVersion: "TLSv1.3", ALPNProtocols: ["h2"] });
  server.on("secureConnection", (s: tls.TLSSocket) => {
    s.setNoDelay(true);
    const conn = new H2Connection(s, {
      role: "server",
      settings: OWN_SETTINGS,
      onStream: (stream, headers) => {
        const authority = headers.find(([n]) => n === ":authority")?.[1] ?? "";
        const { host, port } = hostPort(authority);
        const socket = net.connect({ host, port, allowHalfOpen: true, noDelay: true });
        socket.once("connect", () => stream.respond(200));
        relayOwn(socket, stream);
      },
    });
    conn.start();
  });
  server.listen(where.port, where.host);
}

const modes: Record<string, () => void> = {
  "out h2": runOut,
  "in h2": runIn,
  "out tls": runOutTls,
  "in tls": runInTls,
  "out own": runOutOwn,
  "in own": runInOwn,
};
const mode = modes[`${positionals[0]} ${values.framing}`];
if (!mode) throw new Error("floor-relay: the first argument is `out` or `in`, --framing h2, own or tls");
mode();
