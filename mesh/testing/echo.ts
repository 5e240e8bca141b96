// Test upstreams: a TCP echo server on any address, and a round-trip helper.
import net from "node:net";
import type { SockAddr } from "../shared/index.ts";

export interface TestServer {
  address: SockAddr;
  /** Source addresses of accepted connections. */
  peers: string[];
  close(): Promise<void>;
}

export async function echoServer(host: string, port = 0): Promise<TestServer> {
  const peers: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    peers.push(`${s.remoteAddress}:${s.remotePort}`);
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
    s.on("error", () => undefined);
    s.pipe(s);
  });
  await new Promise<void>((r) => server.listen({ host, port }, () => r()));
  const a = server.address() as net.AddressInfo;
  return {
    address: { ip: a.address, port: a.port },
    peers,
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** Writes `data`, half-closes, and collects everything the peer sends back until it closes. */
export function roundTrip(socket: net.Socket, data: string | Buffer, timeoutMs = 5000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete answer within ${timeoutMs} ms (got ${Buffer.concat(chunks).length} bytes)`));
    }, timeoutMs);
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
    socket.end(data);
  });
}
