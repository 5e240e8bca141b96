// Where a routed request goes and the connections it goes over. A mesh endpoint is reached over HBONE
// (a CONNECT stream to its node's ztunnel, presenting the waypoint's identity); an endpoint outside the
// mesh over plain TCP. Each endpoint has an undici Pool of HTTP/1.1 keep-alive connections whose
// "socket" is that stream or TCP socket: undici's client parses responses with llhttp and hands the
// proxy callbacks, with no per-request ClientRequest/IncomingMessage objects or agent bookkeeping
// (node:http's client and agent were a third of the waypoint's CPU profile, issue 12).
import type { Duplex } from "node:stream";
import { Pool } from "undici";
import { formatAddr, formatIdentity } from "../shared/index.ts";
import type { Identity } from "../shared/index.ts";
import { identityOf } from "../proxy/index.ts";
import { H2Duplex, type HbonePool } from "../proxy/index.ts";
import type { Network } from "../proxy/index.ts";
import type { Endpoint } from "../proxy/index.ts";
import type { Workload } from "../proxy/index.ts";

export interface UpstreamTarget {
  workload: Workload;
  /** The port on the workload. */
  port: number;
}

export function endpointTarget(ep: Endpoint): UpstreamTarget {
  return { workload: ep.workload, port: ep.targetPort };
}

/**
 * An HTTP/2 stream made fit to carry HTTP/1.1 for http's server and undici's client:
 * - they call a few net.Socket methods that a stream lacks; those concern TCP options that belong to the
 *   tunnel's connection, not to one stream, so they do nothing here;
 * - both write header blocks as latin1 strings, corked with the body. An Http2Stream takes strings as
 *   they are (decodeStrings off), and on Node 24 such string chunks of a writev over a TLS session can
 *   reach nghttp2 after their memory is reused: the waypoint's tests and fuzzing saw garbled status
 *   lines. Writable's own decodeStrings turns every string into a Buffer the stream owns until it is sent.
 */
export function asSocketLike<T extends Duplex>(stream: T): T {
  const s = stream as unknown as Record<string, unknown>;
  for (const m of ["setKeepAlive", "setNoDelay", "ref", "unref"]) {
    if (typeof s[m] !== "function") s[m] = () => stream;
  }
  (stream as unknown as { _writableState: { decodeStrings: boolean } })._writableState.decodeStrings = true;
  return stream;
}

export interface UpstreamDeps {
  identity: Identity;
  pool: HbonePool;
  network: Network;
  connectTimeoutMs: number;
}

/** Connections per endpoint, as Envoy's default circuit breaker bounds them. */
const MAX_CONNECTIONS_PER_ENDPOINT = 1024;

/** A key per endpoint, transport and identity: HBONE and plain connections to one address never mix,
 * nor do connections made for a pod that has since been replaced by one with another identity. */
export function upstreamKey(t: UpstreamTarget): string {
  // Workload objects are immutable (a config change makes new ones): their keys are computed once per port.
  let byPort = keys.get(t.workload);
  if (!byPort) keys.set(t.workload, (byPort = new Map()));
  let key = byPort.get(t.port);
  if (key === undefined) {
    const w = t.workload;
    const who = w.protocol === "HBONE" ? formatIdentity(identityOf(w)) : "";
    key = `${w.protocol}|${who}|${formatAddr({ ip: w.ips[0]!, port: t.port })}`;
    byPort.set(t.port, key);
  }
  return key;
}

const keys = new WeakMap<Workload, Map<number, string>>();

export class Upstreams {
  private readonly deps: UpstreamDeps;
  private readonly pools = new Map<string, Pool>();

  constructor(deps: UpstreamDeps) {
    this.deps = deps;
  }

  /** The endpoint's pool, created on first use and forgotten once it has no connection and no work, so
   * endpoints that come and go do not accumulate pools. */
  pool(target: UpstreamTarget): Pool {
    const key = upstreamKey(target);
    const existing = this.pools.get(key);
    if (existing && !existing.closed && !existing.destroyed) return existing;
    const ip = target.workload.ips[0]!;
    const pool = new Pool(`http://${formatAddr({ ip, port: target.port })}`, {
      connections: MAX_CONNECTIONS_PER_ENDPOINT,
      pipelining: 1,
      connect: (_opts, cb) => {
        this.connect(target).then(
          (s) => cb(null, s as never),
          (err: Error) => cb(err, null),
        );
      },
    });
    const forget = () => {
      const s = pool.stats;
      if (this.pools.get(key) !== pool || s.connected > 0 || s.pending > 0 || s.running > 0) return;
      this.pools.delete(key);
      void pool.close().catch(() => undefined);
    };
    pool.on("disconnect", forget).on("connectionError", forget);
    this.pools.set(key, pool);
    return pool;
  }

  /** How many endpoint pools exist (tests check that they do not accumulate). */
  get size(): number {
    return this.pools.size;
  }

  /** A new connection to the endpoint: an HBONE CONNECT stream to a mesh endpoint, TCP otherwise. */
  async connect(target: UpstreamTarget): Promise<Duplex> {
    const { workload, port } = target;
    const ip = workload.ips[0]!;
    // An HTTP client connection, not a relay: the server's FIN ends it (undici then drops it from the pool).
    if (workload.protocol !== "HBONE") return this.deps.network.connect({ ip, port }, this.deps.connectTimeoutMs, false);
    const s = await this.deps.pool.open({
      src: this.deps.identity,
      dst: identityOf(workload),
      target: this.deps.network.hboneTarget(ip),
      authority: formatAddr({ ip, port }),
      // Connections are reused across clients (keep-alive), so no per-client `forwarded` header: the
      // destination sees the waypoint as the peer, as in Istio.
      headers: {},
    });
    return asSocketLike(new H2Duplex(s));
  }

  /** Ends every upstream connection; requests still running fail and are answered 503. */
  async close(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((p) => p.destroy().catch(() => undefined)));
  }
}
