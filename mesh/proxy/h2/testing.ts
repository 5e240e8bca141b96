// Test helpers for the HTTP/2 layer: an echo tunnel server and a client that pushes a pattern through
// a CONNECT stream and hashes what comes back. Used by the interop and adversarial tests.
import { createHash } from "node:crypto";
import net from "node:net";
import { H2Connection, type H2Settings } from "./connection.ts";
import type { H2Stream } from "./stream.ts";

export const TEST_SETTINGS: H2Settings = {
  streamWindow: 1024 * 1024,
  connectionWindow: 4 * 1024 * 1024,
  maxFrameSize: 16_384,
  maxConcurrentStreams: 100,
  maxHeaderListSize: 64 * 1024,
};

export function pattern(n: number): Buffer {
  const block = Buffer.alloc(65_536);
  for (let i = 0; i < block.length; i++) block[i] = i & 0xff;
  const out = Buffer.allocUnsafe(n);
  for (let o = 0; o < n; o += block.length) block.copy(out, o, 0, Math.min(block.length, n - o));
  return out;
}

export const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

/**
 * Our server: CONNECT streams echo their bytes back (window returned once the echo is queued); anything
 * else 405. With `hold`, CONNECT streams accept bytes and never pass them on (a stuck destination).
 */
export async function echoServer(
  settings: H2Settings = TEST_SETTINGS,
  mode: "echo" | "hold" = "echo",
): Promise<{ port: number; connections: H2Connection[]; close(): Promise<void> }> {
  const connections: H2Connection[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    sockets.add(sock);
    sock.once("close", () => sockets.delete(sock));
    const conn = new H2Connection(sock, { role: "server", settings, onStream: (s, headers) => echo(s, headers, mode) });
    connections.push(conn);
    conn.start();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: (server.address() as net.AddressInfo).port,
    connections,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

function echo(s: H2Stream, headers: Array<[string, string]>, mode: "echo" | "hold"): void {
  if (headers.find(([n]) => n === ":method")?.[1] !== "CONNECT") return s.respond(405);
  s.respond(200);
  if (mode === "hold") return;
  s.attach({
    data: (chunk) => void s.write(chunk, () => s.consumed(chunk.length)),
    end: () => s.end(),
    close: () => {},
  });
}

/** Our client: one CONNECT stream on `conn`, `data` sent with backpressure, the echo hashed. */
export function tunnel(conn: H2Connection, data: Buffer): Promise<{ status: number; bytes: number; sha: string }> {
  return new Promise((resolve, reject) => {
    const s = conn.request([
      [":method", "CONNECT"],
      [":authority", "198.18.0.1:80"],
    ]);
    const hash = createHash("sha256");
    let bytes = 0;
    let status = 0;
    s.onResponse = (st) => {
      status = st;
      if (st !== 200) return s.reset();
      let off = 0;
      const pump = () => {
        while (off < data.length) {
          const piece = data.subarray(off, off + 65_536);
          off += piece.length;
          if (!s.write(piece)) return void (s.onDrain = pump);
        }
        s.end();
      };
      pump();
    };
    s.attach({
      data: (c) => {
        hash.update(c);
        bytes += c.length;
        s.consumed(c.length);
      },
      end: () => {},
      close: (code, reason) =>
        code === null || status !== 200 ? resolve({ status, bytes, sha: hash.digest("hex") }) : reject(reason ?? new Error(`stream reset ${code}`)),
    });
  });
}

export async function clientConnection(port: number, settings: H2Settings = TEST_SETTINGS): Promise<{ conn: H2Connection; sock: net.Socket }> {
  const sock = net.connect({ port, host: "127.0.0.1", noDelay: true });
  await new Promise<void>((r, j) => sock.once("connect", r).once("error", j));
  const conn = new H2Connection(sock, { role: "client", settings });
  conn.start();
  return { conn, sock };
}
