// Pure: what every proxy container (ztunnel, waypoint, injected sidecar) exposes, as Istio's proxies do:
// metrics on 15020, readiness on 15021, and the probe the kubelet polls there.
const READY = { path: "/healthz/ready", port: 15021 };

/** The container ports: `first` (e.g. the waypoint's HBONE port), then metrics and readiness. */
export function proxyPorts(first: Array<Record<string, unknown>> = []): Array<Record<string, unknown>> {
  return [...first, { name: "http-metrics", containerPort: 15020, protocol: "TCP" }, { name: "http-ready", containerPort: READY.port, protocol: "TCP" }];
}

export const proxyReadinessProbe = (): Record<string, unknown> => ({ httpGet: { ...READY }, periodSeconds: 5 });

/** A sidecar must be ready before the application starts: polled every second for up to a minute. */
export const proxyStartupProbe = (): Record<string, unknown> => ({ httpGet: { ...READY }, periodSeconds: 1, failureThreshold: 60 });
