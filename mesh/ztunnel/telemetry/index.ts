// telemetry: Istio's TCP metrics and the per-connection access log.
export { ZtunnelMetrics, TCP_LABELS, type TcpLabels, type ResponseFlag } from "./metrics.ts";
export { tcpLabels, accessLogFields, type ConnectionView } from "./labels.ts";
