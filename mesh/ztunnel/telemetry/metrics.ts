// Istio's standard TCP metrics, with Istio's label names, on a per-ztunnel registry (tests run several
// ztunnels in one process, so nothing here uses prom-client's global registry).
import { Counter, Gauge, Registry, collectDefaultMetrics } from "prom-client";

export const TCP_LABELS = [
  "reporter",
  "source_workload",
  "source_canonical_service",
  "source_canonical_revision",
  "source_workload_namespace",
  "source_principal",
  "source_app",
  "source_version",
  "source_cluster",
  "destination_service",
  "destination_service_namespace",
  "destination_service_name",
  "destination_workload",
  "destination_canonical_service",
  "destination_canonical_revision",
  "destination_workload_namespace",
  "destination_principal",
  "destination_app",
  "destination_version",
  "destination_cluster",
  "request_protocol",
  "response_flags",
  "connection_security_policy",
] as const;

export type TcpLabels = Record<(typeof TCP_LABELS)[number], string>;

export type ResponseFlag = "-" | "DENY" | "CONNECT" | "TLS_FAILURE" | "H2_HANDSHAKE_FAILURE" | "IDENTITY_ERROR" | "NO_HEALTHY_UPSTREAM";

export class ZtunnelMetrics {
  readonly registry = new Registry();
  readonly opened: Counter<(typeof TCP_LABELS)[number]>;
  readonly closed: Counter<(typeof TCP_LABELS)[number]>;
  readonly sent: Counter<(typeof TCP_LABELS)[number]>;
  readonly received: Counter<(typeof TCP_LABELS)[number]>;
  readonly failed: Counter<(typeof TCP_LABELS)[number]>;
  readonly socketsOpen: Gauge<"direction">;
  readonly limitHits: Counter<"limit">;

  constructor(opts: { processMetrics?: boolean } = {}) {
    const labelNames = [...TCP_LABELS];
    const registers = [this.registry];
    this.opened = new Counter({ name: "istio_tcp_connections_opened_total", help: "Connections opened", labelNames, registers });
    this.closed = new Counter({ name: "istio_tcp_connections_closed_total", help: "Connections closed", labelNames, registers });
    this.sent = new Counter({ name: "istio_tcp_sent_bytes_total", help: "Bytes sent to the client (response direction)", labelNames, registers });
    this.received = new Counter({ name: "istio_tcp_received_bytes_total", help: "Bytes received from the client (request direction)", labelNames, registers });
    this.failed = new Counter({ name: "istio_tcp_connections_failed_total", help: "Connections that failed before relaying", labelNames, registers });
    this.socketsOpen = new Gauge({ name: "istio_tcp_sockets_open", help: "Proxied connections open now", labelNames: ["direction"], registers });
    this.limitHits = new Counter({
      name: "ztunnel_limit_hits_total",
      help: "Connections or streams ended because a peer hit a resource limit",
      labelNames: ["limit"],
      registers,
    });
    new Gauge({ name: "istio_build", help: "ztunnel build", labelNames: ["component", "tag"], registers }).set({ component: "ztunnel", tag: "ambient-lab" }, 1);
    if (opts.processMetrics) collectDefaultMetrics({ register: this.registry });
  }
}
