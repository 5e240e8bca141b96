// Control-plane metrics, named after istiod's where one exists.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export class ControlPlaneMetrics {
  readonly registry = new Registry();
  readonly pushes: Counter<"type">;
  readonly pushLatency: Histogram<"type">;
  readonly rejects: Counter<"type">;
  readonly connected: Gauge;
  readonly certsSigned: Counter;
  readonly certsRefused: Counter<"reason">;
  readonly translateSeconds: Histogram;
  readonly burstCollections: Counter;
  /** istiod's injection counters: every review, the pods injected, the pods let through as they were. */
  readonly injection: { requests: Counter; success: Counter; skip: Counter };

  constructor(opts: { processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.pushes = new Counter({ name: "pilot_xds_pushes_total", help: "Config responses sent to proxies", labelNames: ["type"], registers });
    this.pushLatency = new Histogram({
      name: "pilot_proxy_convergence_time",
      help: "Seconds from a config change to the response that carries it",
      labelNames: ["type"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.rejects = new Counter({ name: "pilot_total_xds_rejects", help: "Responses proxies rejected (NACK)", labelNames: ["type"], registers });
    this.connected = new Gauge({ name: "pilot_xds", help: "Connected proxies", registers });
    this.certsSigned = new Counter({ name: "citadel_server_success_cert_issuance_count", help: "Certificates signed", registers });
    this.certsRefused = new Counter({ name: "citadel_server_csr_refused_total", help: "Certificate requests refused", labelNames: ["reason"], registers });
    this.translateSeconds = new Histogram({
      name: "ambientlab_translate_seconds",
      help: "Duration of a full translation",
      buckets: [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2],
      registers,
    });
    this.burstCollections = new Counter({
      name: "ambientlab_burst_collections_total",
      help: "Major collections asked for after a burst of whole-config sends (push/burst-collector.ts)",
      registers,
    });
    this.injection = {
      requests: new Counter({ name: "sidecar_injection_requests_total", help: "AdmissionReviews answered by the injection webhook", registers }),
      success: new Counter({ name: "sidecar_injection_success_total", help: "Pods given the sidecar", registers }),
      skip: new Counter({ name: "sidecar_injection_skip_total", help: "Pods the webhook let through without the sidecar", registers }),
    };
    if (opts.processMetrics) collectDefaultMetrics({ register: this.registry });
  }
}
