#!/usr/bin/env node
// The least a Node.js waypoint can be, for bench:waypoint's floor: HBONE in (HTTP/2 CONNECT over mutual
// TLS, framed by mesh/proxy/h2 as the waypoint frames it), each tunnel read as HTTP/1.1 by node:http's
// server through one Duplex (H2Duplex), every request forwarded with undici (as the waypoint does) over
// keep-alive HTTP/1.1 connections that are CONNECT streams on one HBONE connection to the `in` floor
// relay (--framing own), which dials the server. No policy, routing, metrics, logs, certificate rotation
// or config: what it costs under the bench's load is the floor that our HTTP/2, node:http and undici
// set for the waypoint.
//   --listen IP:PORT --via IP:PORT --upstream HOST:PORT --cert FILE --key FILE --ca FILE
import http from "node:http";
import type { Duplex } from "node:stream";
import tls from "node:tls";
import { parseArgs } from "node:util";
import { Pool } from "undici";
import { H2Connection, H2Duplex } from "../mesh/proxy/h2/index.ts";
import { clientTls, hostPort, need as needArg, OWN_SETTINGS, tlsFiles as readTlsFiles } from "./floor-common.ts";

const PROGRAM = "floor-waypoint";
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

const need = (name: keyof typeof values) => needArg(PROGRAM, values, name);
const tlsFiles = readTlsFiles(PROGRAM, values);
const via = hostPort(PROGRAM, need("via"));
const upstream = need("upstream");

// What the waypoint's asSocketLike does (mesh/waypoint/upstream.ts), for the same reasons.
function socketLike<T extends Duplex>(stream: T): T {
  const s = stream as unknown as Record<string, unknown>;
  for (const m of ["setKeepAlive", "setNoDelay", "ref", "unref"]) if (typeof s[m] !== "function") s[m] = () => stream;
  (stream as unknown as { _writableState: { decodeStrings: boolean } })._writableState.decodeStrings = true;
  return stream;
}

let conn: H2Connection | undefined;
function hbone(): H2Connection {
  if (conn?.usable) return conn;
  conn = new H2Connection(clientTls(via, ["h2"], tlsFiles), { role: "client", settings: OWN_SETTINGS });
  conn.start();
  return conn;
}

const pool = new Pool(`http://${upstream}`, {
  connections: 1024,
  pipelining: 1,
  connect: (_opts, cb) => {
    const stream = hbone().request([
      [":method", "CONNECT"],
      [":authority", upstream],
    ]);
    const duplex = socketLike(new H2Duplex(stream));
    stream.onResponse = (status) => (status === 200 ? cb(null, duplex as never) : cb(new Error(`CONNECT answered ${status}`), null));
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

const where = hostPort(PROGRAM, need("listen"));
const tunnels = tls.createServer({ ...tlsFiles, requestCert: true, rejectUnauthorized: true, minVersion: "TLSv1.3", ALPNProtocols: ["h2"] });
tunnels.on("secureConnection", (s: tls.TLSSocket) => {
  s.setNoDelay(true);
  new H2Connection(s, {
    role: "server",
    settings: OWN_SETTINGS,
    onStream: (stream) => {
      stream.respond(200);
      server.emit("connection", socketLike(new H2Duplex(stream)));
    },
  }).start();
});
tunnels.listen(where.port, where.host);
