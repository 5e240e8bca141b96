// How a proxy is tuned and bounded: timeouts, windows and the limits a peer can run into. Shared by
// ztunnel and the waypoint; each gets its values from its environment (config-sources.ts).

export interface ProxyTuning {
  connectTimeoutMs: number;
  /** From accept to a verified peer (original destination, certificate, TLS); then the socket is destroyed. */
  handshakeTimeoutMs: number;
  poolMaxStreams: number;
  poolIdleMs: number;
  streamWindow: number;
  connectionWindow: number;
  /** SETTINGS_MAX_CONCURRENT_STREAMS an HBONE server advertises and enforces per connection. */
  maxConcurrentStreams: number;
  /** HBONE connections still handshaking from one source address. */
  maxHandshakesPerSource: number;
  /** HBONE and plaintext connections held open from one source address. */
  maxConnectionsPerSource: number;
  /** Established HBONE sessions per authenticated source identity. */
  maxSessionsPerIdentity: number;
  /** An HBONE session with no open stream for this long is closed (GOAWAY). Longer than clients' pool idle. */
  sessionIdleMs: number;
  /** A relayed connection with no bytes either way for this long is closed (Envoy's TCP proxy default: 1 h). */
  idleTimeoutMs: number;
  /** SETTINGS_MAX_HEADER_LIST_SIZE for HBONE (Istio's ztunnel: 64 KiB server side). */
  maxHeaderListSize: number;
}

export const DEFAULT_TUNING: ProxyTuning = {
  connectTimeoutMs: 10_000,
  handshakeTimeoutMs: 10_000,
  poolMaxStreams: 100,
  poolIdleMs: 5 * 60_000,
  // What a peer can make us buffer per HBONE stream and connection. Measured (README, Performance):
  // 1 MB / 4 MB carry one TCP stream as fast as 4 MB / 16 MB did, so the smaller bound costs nothing.
  streamWindow: 1024 * 1024,
  connectionWindow: 4 * 1024 * 1024,
  maxConcurrentStreams: 100,
  maxHandshakesPerSource: 64,
  maxConnectionsPerSource: 1024,
  maxSessionsPerIdentity: 1024,
  sessionIdleMs: 10 * 60_000,
  idleTimeoutMs: 60 * 60_000,
  maxHeaderListSize: 64 * 1024,
};

/** The bounds a peer can run into; each is a value of the `limit` label of the limit-hits metric. */
export type LimitKind =
  | "handshake_timeout"
  | "handshakes_per_source"
  | "connections_per_source"
  | "sessions_per_identity"
  | "session_idle"
  | "idle_timeout"
  | "streams";

/** Counts a limit hit and logs it, rate-limited: a peer must not be able to flood the log. */
export type LimitHit = (limit: LimitKind, fields: Record<string, unknown>, msg: string) => void;
