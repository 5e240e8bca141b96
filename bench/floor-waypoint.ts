#!/usr/bin/env node
// The least a Node.js waypoint can be, for bench:waypoint's floor: HBONE in (HTTP/2 CONNECT over mutual
// TLS, node:http2), each tunnel read as HTTP/1.1 by node:http's server, every request forwarded with
// undici (as the waypoint does) over keep-alive HTTP/1.1 connections that are CONNECT streams on one
// HBONE session to the `in` floor relay, which dials the server. No policy, routing, metrics, logs,
// certificate rotation or config: what it costs under the bench's load is the floor that node:http2,
// node:http and undici set for the waypoint.
//   --listen IP:PORT --via IP:PORT --upstream HOST:PORT --cert FILE --key FILE --ca FILE
import { readFileSync } from "node:fs";
import http from "node:http";
import http2 from "node:http2";
import type { Duplex } from "node:stream";
import tls from "node:tls";
import { parseArgs } from "node:util";
import { Pool } from "undici";

// As mesh/proxy/tuning.ts and the HBONE pool/guard set them.
const STREAM_WINDOW = 1024 * 1024;
const CONNECTION_WINDOW = 4 * 1024 * 1024;
const MAX_FRAME = 1 << 20;
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade"]);

const { values } = parseArgs({
  options: {
    listen: { type: "string" },
    via: { type: "string" },
    upstream: { type: "string" },
    cert: { type: "string" },
    key: { type: "string" },
    ca: { type: "string" },
  },
});

function need(name: keyof typeof values): string {
  const v = values[name];
  if (typeof v !== "string") throw new Error(`floor-waypoint: --${name} is required`);
  return v;
}

function hostPort(s: string): { host: string; port: number } {
  const i = s.lastIndexOf(":");
  const port = Number(s.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port)) throw new Error(`floor-waypoint: ${s} is not HOST:PORT`);
  return { host: s.slice(0, i), port };
}

const tlsFiles = { cert: readFileSync(need("cert")), key: readFileSync(need("key")), ca: readFileSync(need("ca")) };
const via = hostPort(need("via"));
const upstream = need("upstream");

// What the waypoint's asSocketLike does (mesh/waypoint/upstream.ts), for the same reasons.
function socketLike<T extends Duplex>(stream: T): T {
  const s = stream as unknown as Record<string, unknown>;
  for (const m of ["setKeepAlive", "setNoDelay", "ref", "unref"]) if (typeof s[m] !== "function") s[m] = () => stream;
  (stream as unknown as { _writableState: { decodeStrings: boolean } })._writableState.decodeStrings = true;
  return stream;
}

let session: http2.ClientHttp2Session | undefined;
function hbone(): http2.ClientHttp2Session {
  if (session && !session.closed && !session.destroyed) return session;
  const socket = tls.connect({
    host: via.host,
    port: via.port,
    ...tlsFiles,
    ALPNProtocols: ["h2"],
    minVersion: "TLSv1.3",
    checkServerIdentity: () => undefined,
  });
  socket.setNoDelay(true);
  const s = http2.connect(`https://${via.host}:${via.port}`, {
    createConnection: () => socket,
    settings: { initialWindowSize: STREAM_WINDOW, maxFrameSize: MAX_FRAME, enablePush: false },
  });
  s.once("connect", () => s.setLocalWindowSize(CONNECTION_WINDOW));
  s.on("error", () => undefined);
  session = s;
  return s;
}

const pool = new Pool(`http://${upstream}`, {
  connections: 1024,
  pipelining: 1,
  connect: (_opts, cb) => {
    const stream = hbone().request({ ":method": "CONNECT", ":authority": upstream }, { endStream: false });
    stream.once("response", () => cb(null, socketLike(stream) as never));
    stream.once("error", (err) => cb(err, null));
  },
});

function headers(h: http.IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
  return out;
}

const server = http.createServer({ keepAliveTimeout: 60_000, requestTimeout: 0 }, (req, res) => {
  pool.dispatch(
    { path: req.url ?? "/", method: req.method ?? "GET", headers: headers(req.headers), body: req.headers["content-length"] ? req : null },
    {
      onRequestStart: (c) => void res.on("drain", () => c.resume()),
      onResponseStart: (_c, status, h, message) => void res.writeHead(status, message || undefined, headers(h as http.IncomingHttpHeaders)),
      onResponseData: (c, chunk) => void (res.write(chunk) || c.pause()),
      onResponseEnd: () => void res.end(),
      onResponseError: () => void (res.headersSent ? res.destroy() : res.writeHead(503).end()),
    },
  );
});

const where = hostPort(need("listen"));
const hboneServer = http2.createSecureServer({
  ...tlsFiles,
  requestCert: true,
  rejectUnauthorized: true,
  minVersion: "TLSv1.3",
  settings: { initialWindowSize: STREAM_WINDOW, maxFrameSize: MAX_FRAME },
});
hboneServer.on("connection", (s: import("node:net").Socket) => s.setNoDelay(true));
hboneServer.on("session", (s) => s.once("localSettings", () => s.setLocalWindowSize(CONNECTION_WINDOW)));
hboneServer.on("stream", (stream) => {
  stream.respond({ ":status": 200 });
  stream.on("error", () => stream.destroy());
  server.emit("connection", socketLike(stream));
});
hboneServer.listen(where.port, where.host);
