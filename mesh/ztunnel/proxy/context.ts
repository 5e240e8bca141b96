// What every listener of one ztunnel shares. Built once in app.ts; listeners never reach for globals.
import type { Identity } from "../../shared/identity.ts";
import type { Logger } from "../../shared/logging.ts";
import type { CertManager } from "../identity/cert-manager.ts";
import type { StateStore } from "../state/store.ts";
import type { Workload } from "../state/types.ts";
import type { ZtunnelMetrics } from "../telemetry/metrics.ts";
import type { Network } from "./network.ts";
import type { ConnectionTracker } from "./tracker.ts";

export interface ProxyTuning {
  connectTimeoutMs: number;
  handshakeTimeoutMs: number;
  poolMaxStreams: number;
  poolIdleMs: number;
  streamWindow: number;
  connectionWindow: number;
}

export const DEFAULT_TUNING: ProxyTuning = {
  connectTimeoutMs: 10_000,
  handshakeTimeoutMs: 10_000,
  poolMaxStreams: 100,
  poolIdleMs: 5 * 60_000,
  streamWindow: 4 * 1024 * 1024,
  connectionWindow: 16 * 1024 * 1024,
};

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
  /** Ports that are never a legitimate destination (loop prevention). */
  illegalPorts: ReadonlySet<number>;
}

export function identityOf(w: Workload): Identity {
  return { trustDomain: w.trustDomain, namespace: w.namespace, serviceAccount: w.serviceAccount };
}
