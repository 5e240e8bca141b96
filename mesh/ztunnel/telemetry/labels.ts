// Builds metric labels and access-log fields for one connection from what the proxy knows about each end.
import type { Identity } from "../../shared/index.ts";
import { formatIdentity } from "../../shared/index.ts";
import type { Service, Workload } from "../../proxy/index.ts";
import type { ResponseFlag, TcpLabels } from "./metrics.ts";

export interface ConnectionView {
  direction: "outbound" | "inbound";
  srcAddr: string;
  dstAddr: string;
  /** The pod address:15008 HBONE went to, when it did. */
  hboneAddr?: string;
  srcWorkload?: Workload;
  srcIdentity?: Identity;
  dstWorkload?: Workload;
  dstIdentity?: Identity;
  dstService?: Service;
  mtls: boolean;
}

const UNKNOWN = "unknown";

function principal(id: Identity | undefined): string {
  return id ? formatIdentity(id) : UNKNOWN;
}

export function tcpLabels(v: ConnectionView, flag: ResponseFlag, cluster = "Kubernetes"): TcpLabels {
  const s = v.srcWorkload;
  const d = v.dstWorkload;
  return {
    reporter: v.direction === "outbound" ? "source" : "destination",
    source_workload: s?.workloadName ?? UNKNOWN,
    source_canonical_service: s?.canonicalName ?? UNKNOWN,
    source_canonical_revision: s?.canonicalRevision ?? UNKNOWN,
    source_workload_namespace: s?.namespace ?? UNKNOWN,
    source_principal: principal(v.srcIdentity),
    source_app: s?.canonicalName ?? UNKNOWN,
    source_version: s?.canonicalRevision ?? UNKNOWN,
    source_cluster: s ? cluster : UNKNOWN,
    destination_service: v.dstService?.hostname ?? UNKNOWN,
    destination_service_namespace: v.dstService?.namespace ?? UNKNOWN,
    destination_service_name: v.dstService?.name ?? UNKNOWN,
    destination_workload: d?.workloadName ?? UNKNOWN,
    destination_canonical_service: d?.canonicalName ?? UNKNOWN,
    destination_canonical_revision: d?.canonicalRevision ?? UNKNOWN,
    destination_workload_namespace: d?.namespace ?? UNKNOWN,
    destination_principal: principal(v.dstIdentity),
    destination_app: d?.canonicalName ?? UNKNOWN,
    destination_version: d?.canonicalRevision ?? UNKNOWN,
    destination_cluster: d ? cluster : UNKNOWN,
    request_protocol: "tcp",
    response_flags: flag,
    connection_security_policy: v.mtls ? "mutual_tls" : "unknown",
  };
}

/** The access-log record, with ztunnel's field names. */
export function accessLogFields(
  v: ConnectionView,
  r: { bytesSent: number; bytesRecv: number; durationMs: number; error?: string; flag: ResponseFlag },
): Record<string, unknown> {
  return {
    target: "access",
    direction: v.direction,
    "src.addr": v.srcAddr,
    ...(v.srcWorkload ? { "src.workload": v.srcWorkload.name, "src.namespace": v.srcWorkload.namespace } : {}),
    ...(v.srcIdentity ? { "src.identity": formatIdentity(v.srcIdentity) } : {}),
    "dst.addr": v.dstAddr,
    ...(v.hboneAddr ? { "dst.hbone_addr": v.hboneAddr } : {}),
    ...(v.dstService ? { "dst.service": v.dstService.hostname } : {}),
    ...(v.dstWorkload ? { "dst.workload": v.dstWorkload.name, "dst.namespace": v.dstWorkload.namespace } : {}),
    ...(v.dstIdentity ? { "dst.identity": formatIdentity(v.dstIdentity) } : {}),
    bytes_sent: r.bytesSent,
    bytes_recv: r.bytesRecv,
    duration: `${Math.round(r.durationMs)}ms`,
    response_flags: r.flag,
    ...(r.error ? { error: r.error } : {}),
  };
}
