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
