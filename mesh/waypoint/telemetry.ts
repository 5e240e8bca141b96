// Istio's standard HTTP metrics as a waypoint reports them (reporter="waypoint"), on a per-waypoint
// registry, and the label set of one request built from what the waypoint knows.
import { Counter, Gauge, Registry, collectDefaultMetrics } from "prom-client";
import { formatIdentity, type Identity } from "../shared/index.ts";
import type { Service, Workload } from "../proxy/index.ts";
import { RequestMetrics } from "./request-metrics.ts";

export const HTTP_LABELS = [
  "reporter",
  "source_workload",
  "source_workload_namespace",
  "source_principal",
  "source_app",
  "source_canonical_service",
  "destination_service",
  "destination_service_name",
  "destination_service_namespace",
  "destination_workload",
  "destination_workload_namespace",
  "destination_principal",
  "destination_canonical_service",
  "request_protocol",
  "response_code",
  "grpc_response_status",
  "response_flags",
  "connection_security_policy",
] as const;

export type HttpLabels = Record<(typeof HTTP_LABELS)[number], string>;

/** Envoy's response flags for what a waypoint can decide itself. */
export type HttpResponseFlag = "-" | "NR" | "UH" | "UF" | "UPE" | "DC" | "UT";

export class WaypointMetrics {
  readonly registry = new Registry();
  /** istio_requests_total and the duration, request-size and response-size histograms, recorded together. */
  readonly http: RequestMetrics<HttpLabels>;
  readonly tunnelsOpen: Gauge;
  readonly limitHits: Counter<"limit">;

  constructor(opts: { processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    const sizes = [1, 10, 100, 1000, 10_000, 100_000, 1_000_000];
    this.http = new RequestMetrics<HttpLabels>({
      registry: this.registry,
      counter: { name: "istio_requests_total", help: "Requests handled" },
      histograms: [
        { name: "istio_request_duration_milliseconds", help: "Request duration", buckets: [0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000] },
        { name: "istio_request_bytes", help: "Request body size", buckets: sizes },
        { name: "istio_response_bytes", help: "Response body size", buckets: sizes },
      ],
    });
    this.limitHits = new Counter({
      name: "waypoint_limit_hits_total",
      help: "Connections or streams ended because a peer hit a resource limit",
      labelNames: ["limit"],
      registers,
    });
    this.tunnelsOpen = new Gauge({ name: "ambientlab_waypoint_tunnels_open", help: "HBONE CONNECT streams open now", registers });
    if (opts.processMetrics) collectDefaultMetrics({ register: this.registry });
  }
}

export interface RequestParties {
  src: Identity;
  srcWorkload: Workload | undefined;
  service: Service | undefined;
  dstWorkload: Workload | undefined;
  dstIdentity: Identity | undefined;
}

/** `protocol`: "grpc" for gRPC calls, else "http" (either HTTP version), as Istio's request_protocol. */
export function requestLabels(p: RequestParties, code: number, flag: HttpResponseFlag, protocol: "http" | "grpc" = "http", grpcStatus = ""): HttpLabels {
  const unknown = "unknown";
  return {
    reporter: "waypoint",
    source_workload: p.srcWorkload?.workloadName ?? unknown,
    source_workload_namespace: p.srcWorkload?.namespace ?? p.src.namespace,
    source_principal: formatIdentity(p.src),
    source_app: p.srcWorkload?.canonicalName ?? unknown,
    source_canonical_service: p.srcWorkload?.canonicalName ?? unknown,
    destination_service: p.service?.hostname ?? unknown,
    destination_service_name: p.service?.name ?? unknown,
    destination_service_namespace: p.service?.namespace ?? unknown,
    destination_workload: p.dstWorkload?.workloadName ?? unknown,
    destination_workload_namespace: p.dstWorkload?.namespace ?? unknown,
    destination_principal: p.dstIdentity ? formatIdentity(p.dstIdentity) : unknown,
    destination_canonical_service: p.dstWorkload?.canonicalName ?? unknown,
    request_protocol: protocol,
    response_code: String(code),
    grpc_response_status: grpcStatus,
    response_flags: flag,
    connection_security_policy: "mutual_tls",
  };
}
