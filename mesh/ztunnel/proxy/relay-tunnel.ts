// Copies bytes both ways between a TCP socket and an HBONE stream of our own HTTP/2 (mesh/proxy/h2),
// with no stream layer between them: the socket reads into pooled buffers that the stream frames as
// DATA straight onto the TLS socket, and DATA received is written to the socket as it arrived, its
// window returned to the peer only once the socket took it (end-to-end backpressure). Half-closes map to
// END_STREAM and FIN, an abnormal end to RST_STREAM and a TCP reset. Never throws: errors end the relay.
import type net from "node:net";
import { H2ErrorCode as H2Code, type H2Stream } from "../../proxy/index.ts";
import { pumpPooled } from "./read-pool.ts";
import type { Relay, RelayOptions, RelayResult } from "./relay.ts";

export function relayTunnel(tcp: net.Socket, stream: H2Stream, side: "stream-is-client" | "tcp-is-client", opts: RelayOptions = {}): Relay {
  let fromTcp = 0;
  let fromStream = 0;
  let firstError: Error | undefined;
  let over = false;
  let tcpDone = false;
  let streamDone = false;
  let resolveDone!: (r: RelayResult) => void;
  const done = new Promise<RelayResult>((r) => (resolveDone = r));
  let idle: NodeJS.Timeout | undefined;

  const finish = () => {
    if (over) return;
    over = true;
    clearTimeout(idle);
    if (firstError) {
      stream.reset(H2Code.Cancel);
      if (!tcp.destroyed) tcp.resetAndDestroy();
    } else {
      tcp.destroy();
    }
    const [fromClient, toClient] = side === "tcp-is-client" ? [fromTcp, fromStream] : [fromStream, fromTcp];
    resolveDone({ bytesFromClient: fromClient, bytesToClient: toClient, ...(firstError ? { error: firstError } : {}) });
  };
  const fail = (err: Error) => {
    firstError ??= err;
    finish();
  };
  const settled = () => {
    if (tcpDone && streamDone) finish();
  };

  if (opts.idleMs && opts.idleMs > 0) {
    idle = setTimeout(() => fail(opts.onIdle?.() ?? new Error(`idle for ${opts.idleMs} ms`)), opts.idleMs);
    idle.unref();
  }
  const onTcpBytes = (n: number) => {
    fromTcp += n;
    idle?.refresh();
  };

  // TCP -> stream.
  if (!(opts.pools && pumpPooled(tcp, stream, opts.pools, onTcpBytes))) {
    tcp.on("data", (c: Buffer) => {
      onTcpBytes(c.length);
      if (!stream.write(c)) {
        tcp.pause();
        stream.onDrain = () => tcp.resume();
      }
    });
    tcp.once("end", () => stream.end());
  }
  // Stream -> TCP.
  stream.attach({
    data: (c) => {
      fromStream += c.length;
      idle?.refresh();
      tcp.write(c, () => stream.consumed(c.length));
    },
    end: () => tcp.end(),
    close: (code, reason) => {
      streamDone = true;
      if (code !== null) return fail(reason ?? new Error(`the other side of the tunnel reset the stream (HTTP/2 error ${code})`));
      settled();
    },
  });
  tcp.on("error", (err) => fail(err));
  tcp.once("close", (hadError) => {
    tcpDone = true;
    // Closed after its FIN both ways: the stream may still be sending what it queued, then END_STREAM.
    // Closed any other way (a reset, destroyed), the tunnel ends abnormally too.
    if (!stream.isClosed && (hadError || !tcp.readableEnded)) return fail(new Error("the connection closed before the tunnel ended"));
    settled();
  });

  return {
    done,
    abort(reason: Error) {
      fail(reason);
    },
  };
}
