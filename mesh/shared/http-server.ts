// A small HTTP server with the mesh's lifecycle, for admin, metrics and readiness endpoints.
import http from "node:http";
import type { SockAddr } from "./addr.ts";
import { describeError } from "./errors.ts";
import type { Server } from "./lifecycle.ts";
import type { Logger } from "./logging.ts";
import { boundAddress, listen } from "./listen.ts";

export type Handler = (req: http.IncomingMessage, url: URL) => Promise<{ status: number; body: string; type?: string }>;

export class HttpServer implements Server {
  private readonly server: http.Server;
  private readonly listen: SockAddr;

  constructor(listen: SockAddr, handler: Handler, log: Logger) {
    this.listen = listen;
    this.server = http.createServer((req, res) => {
      const url = new URL(req.url ?? "/", "http://local");
      handler(req, url)
        .catch((err: unknown) => {
          log.error({ err: describeError(err), path: url.pathname }, "admin handler failed");
          return { status: 500, body: `internal error: ${describeError(err)}\n`, type: undefined as string | undefined };
        })
        .then((r) => {
          res.writeHead(r.status, { "content-type": r.type ?? "text/plain; charset=utf-8" });
          res.end(r.body);
        });
    });
    this.server.on("clientError", (_err, socket) => socket.destroy());
    this.server.keepAliveTimeout = 5_000;
  }

  start(): Promise<void> {
    return listen(this.server, this.listen);
  }

  address(): SockAddr {
    return boundAddress(this.server);
  }

  async drain(deadlineMs: number): Promise<void> {
    const closed = new Promise<void>((r) => this.server.close(() => r()));
    this.server.closeIdleConnections();
    const timer = setTimeout(() => this.server.closeAllConnections(), deadlineMs);
    await closed;
    clearTimeout(timer);
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((r) => this.server.close(() => r()));
    this.server.closeAllConnections();
    await closed;
  }
}

/** JSON with object keys sorted at every level and Maps as objects: stable, diffable dumps. */
export function sortedJson(value: unknown): string {
  const norm = (v: unknown): unknown => {
    if (v instanceof Map) return norm(Object.fromEntries([...v.entries()].map(([k, x]) => [String(k), x])));
    if (v instanceof Set) return [...v].map(norm);
    if (Array.isArray(v)) return v.map(norm);
    // As JSON.stringify does: an object with its own JSON form (a workload read lazily from the wire) is that form.
    if (v && typeof (v as { toJSON?: unknown }).toJSON === "function" && !(v instanceof Date)) return norm((v as { toJSON(): unknown }).toJSON());
    if (v && typeof v === "object" && !(v instanceof Date)) {
      return Object.fromEntries(
        Object.keys(v)
          .sort()
          .map((k) => [k, norm((v as Record<string, unknown>)[k])]),
      );
    }
    return v;
  };
  return JSON.stringify(norm(value), null, 2) + "\n";
}
