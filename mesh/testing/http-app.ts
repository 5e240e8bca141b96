#!/usr/bin/env node
// A tiny HTTP application for tests and benchmarks inside pod namespaces.
//   node mesh/testing/http-app.ts --port 8080 --name echo
// GET /any/path?size=N answers N bytes (default: a line naming the app and the request).
import http from "node:http";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: { port: { type: "string", default: "8080" }, name: { type: "string", default: "app" }, host: { type: "string", default: "0.0.0.0" } },
});
const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? "/", "http://x");
  const size = Number(url.searchParams.get("size") ?? "-1");
  const body = size >= 0 ? Buffer.alloc(Math.min(size, 64 * 1024 * 1024), "a") : Buffer.from(`hello from ${values.name} ${req.method} ${url.pathname}\n`);
  res.writeHead(200, { "content-type": "text/plain", "content-length": body.length });
  res.end(body);
});
server.keepAliveTimeout = 60_000;
server.listen(Number(values.port), values.host, () => process.stdout.write(`listening on ${values.host}:${values.port}\n`));
const stop = () => server.close(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
