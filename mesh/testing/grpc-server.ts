// A plaintext HTTP/2 server for gRPC handler tests, counting the streams it has open (each call's must
// close, whatever the client does), and the length-prefixed message gRPC frames carry.
import http2 from "node:http2";
import type net from "node:net";

export interface CountingH2Server {
  url: string;
  /** Streams open now. */
  openStreams(): number;
  close(): Promise<void>;
}

export async function countingH2Server(handler: (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void): Promise<CountingH2Server> {
  const server = http2.createServer(handler);
  let open = 0;
  server.on("stream", (s) => {
    open++;
    s.on("close", () => open--);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    openStreams: () => open,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/** A length-prefixed gRPC message (flags 1: compressed). */
export function grpcFrame(msg: Buffer, flags = 0): Buffer {
  const head = Buffer.alloc(5);
  head[0] = flags;
  head.writeUInt32BE(msg.length, 1);
  return Buffer.concat([head, msg]);
}
