// What every listener of one ztunnel shares. Built once in app.ts; listeners never reach for globals.
import type { RateLimitedLog } from "../../shared/index.ts";
import type { Logger } from "../../shared/index.ts";
import type { CertManager } from "../../proxy/index.ts";
import type { StateStore } from "../../proxy/index.ts";
import type { Workload } from "../../proxy/index.ts";
import type { ZtunnelMetrics } from "../telemetry/metrics.ts";
import type { Network } from "../../proxy/index.ts";
import type { LimitHit, ProxyTuning } from "../../proxy/index.ts";
import type { ConnectionTracker } from "./tracker.ts";
import type { ReadPools } from "./read-pool.ts";

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
  limitHit: LimitHit;
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
  /** Buffers TCP sides are read into, reused across connections (read-pool.ts). */
  readPools: ReadPools;
}

/** Node mode: enrolled (HBONE, not self-terminating) workloads on `node`. Sidecar mode: the pod at `podIp`. */
export function servesFor(node: string, sidecarPodIp?: string): (w: Workload) => boolean {
  if (sidecarPodIp) return (w) => w.ips.includes(sidecarPodIp);
  return (w) => w.node === node && w.protocol === "HBONE" && !w.nativeHbone;
}
