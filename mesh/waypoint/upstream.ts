// Where a routed request goes and the connections it goes over. A mesh endpoint is reached over HBONE
// (a CONNECT stream to its node's ztunnel, presenting the waypoint's identity); an endpoint outside the
// mesh over plain TCP. HTTP/1.1 keep-alive reuses those connections through an http.Agent.
import http from "node:http";
import { Duplex } from "node:stream";
import { formatAddr } from "../shared/index.ts";
import type { Identity } from "../shared/index.ts";
import { identityOf } from "../proxy/index.ts";
import type { HbonePool } from "../proxy/index.ts";
import type { Network } from "../proxy/index.ts";
import type { Endpoint } from "../proxy/index.ts";
import type { Workload } from "../proxy/index.ts";

export interface UpstreamTarget {
  workload: Workload;
  /** The port on the workload. */
  port: number;
}

/** Request options the agent reads back in createConnection. */
export interface UpstreamRequestOptions extends http.RequestOptions {
  upstream: UpstreamTarget;
}

export function endpointTarget(ep: Endpoint): UpstreamTarget {
  return { workload: ep.workload, port: ep.targetPort };
}

/**
 * http's client calls a few net.Socket methods that an HTTP/2 stream lacks; they concern TCP
 * options that belong to the tunnel's connection, not to one stream, so they do nothing here.
 */
export function asSocketLike<T extends Duplex>(stream: T): T {
  const s = stream as unknown as Record<string, unknown>;
  for (const m of ["setKeepAlive", "setNoDelay", "ref", "unref"]) {
    if (typeof s[m] !== "function") s[m] = () => stream;
  }
  return stream;
}

/**
 * A plain Duplex in front of an HTTP/2 stream, for http's server. Writing http's corked header strings
 * straight into an Http2Stream garbles the status line (Node 24: the latin1 string chunks of a writev
 * reach nghttp2 after their memory is reused); here every chunk is a Buffer we own until it is sent.
 */
export class StreamSocket extends Duplex {
  private readonly inner: Duplex;

  constructor(inner: Duplex) {
    super({ allowHalfOpen: true });
    this.inner = inner;
    inner.on("data", (c: Buffer) => {
      if (!this.push(c)) inner.pause();
    });
    inner.on("end", () => this.push(null));
    inner.on("error", (err) => this.destroy(err));
    inner.on("close", () => this.destroy());
    asSocketLike(this);
  }

  override _read(): void {
    this.inner.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.inner.write(chunk, cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.inner.end(cb);
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.inner.destroy(err ?? undefined);
    cb(err);
  }

  setTimeout(ms: number, cb?: () => void): this {
    (this.inner as unknown as { setTimeout(ms: number, cb?: () => void): void }).setTimeout(ms, cb);
    return this;
  }
}

export interface UpstreamDeps {
  identity: Identity;
  pool: HbonePool;
  network: Network;
  connectTimeoutMs: number;
}

export class UpstreamAgent extends http.Agent {
  private readonly deps: UpstreamDeps;

  constructor(deps: UpstreamDeps) {
    super({ keepAlive: true, maxSockets: 256, maxFreeSockets: 64, timeout: 60_000 });
    this.deps = deps;
  }

  // Node's Agent accepts an asynchronous createConnection that hands the socket to the callback.
  override createConnection(options: UpstreamRequestOptions, cb: (err: Error | null, socket?: Duplex) => void): undefined {
    const { workload, port } = options.upstream;
    const ip = workload.ips[0]!;
    const open =
      workload.protocol === "HBONE"
        ? this.deps.pool.open({
            src: this.deps.identity,
            dst: identityOf(workload),
            target: this.deps.network.hboneTarget(ip),
            authority: formatAddr({ ip, port }),
            // Streams are reused across clients (keep-alive), so no per-client `forwarded` header: the
            // destination sees the waypoint as the peer, as in Istio.
            headers: {},
          })
        : this.deps.network.connect({ ip, port }, this.deps.connectTimeoutMs);
    open.then(
      (s) => {
        // An upstream that closes its side (an HTTP/1.1 server ending an idle keep-alive connection)
        // arrives as END_STREAM. A TCP socket would then close, and http.Agent drop it from its free
        // pool; an HTTP/2 stream stays half-open, so the Agent would reuse it and the next request would
        // never be answered (finding 8). End our side too, as a socket without allowHalfOpen does.
        s.once("end", () => {
          if (!s.writableEnded) s.end();
        });
        cb(null, asSocketLike(s));
      },
      (err: Error) => cb(err),
    );
    return undefined;
  }

  /** One pool per endpoint and transport: HBONE and plain connections to one address never mix. */
  override getName(options: UpstreamRequestOptions): string {
    const w = options.upstream.workload;
    return `${w.protocol}|${w.ips[0]}:${options.upstream.port}`;
  }
}
