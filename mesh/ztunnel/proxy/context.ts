// What every listener of one ztunnel shares. Built once in app.ts; listeners never reach for globals.
import type { Identity } from "../../shared/identity.ts";
import type { RateLimitedLog } from "../../shared/limits.ts";
import type { Logger } from "../../shared/logging.ts";
import type { CertManager } from "../identity/cert-manager.ts";
import type { StateStore } from "../state/store.ts";
import type { Workload } from "../state/types.ts";
import type { ZtunnelMetrics } from "../telemetry/metrics.ts";
import type { Network } from "./network.ts";
import type { ConnectionTracker } from "./tracker.ts";

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
  streamWindow: 4 * 1024 * 1024,
  connectionWindow: 16 * 1024 * 1024,
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

export interface ProxyContext {
  node: string;
  trustDomain: string;
  clusterId: string;
  state: StateStore;
  certs: CertManager;
  network: Network;
  tracker: ConnectionTracker;
  metrics: ZtunnelMetrics;
  log: Logger;
  accessLog: Logger;
  tuning: ProxyTuning;
  /** Counts a limit hit and logs it, rate-limited: a peer must not be able to flood the log. */
  limitHit(limit: LimitKind, fields: Record<string, unknown>, msg: string): void;
  /** Warnings about what peers did, rate-limited per kind of event. */
  peerLog: RateLimitedLog;
  /** Access-log lines of refused or failed connections, rate-limited per response flag. */
  failLog: RateLimitedLog;
  /** Ports that are never a legitimate destination (loop prevention). */
  illegalPorts: ReadonlySet<number>;
  /**
   * The workloads this proxy terminates HBONE for and captures: a node proxy serves the enrolled pods of
   * its node; a sidecar serves its one pod.
   */
  serves: (w: Workload) => boolean;
}

/** Node mode: enrolled (HBONE, not self-terminating) workloads on `node`. Sidecar mode: the pod at `podIp`. */
export function servesFor(node: string, sidecarPodIp?: string): (w: Workload) => boolean {
  if (sidecarPodIp) return (w) => w.ips.includes(sidecarPodIp);
  return (w) => w.node === node && w.protocol === "HBONE" && !w.nativeHbone;
}

export function identityOf(w: Workload): Identity {
  return { trustDomain: w.trustDomain, namespace: w.namespace, serviceAccount: w.serviceAccount };
}
