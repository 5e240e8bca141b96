// Pure: the Prometheus configuration for a single-machine cluster: the control plane's admin port and
// every ztunnel's and waypoint's metrics port, scraped every 5 s, with the labels Istio's dashboards expect.
import { stringify } from "yaml";
import type { TopologyPlan } from "./plan.ts";

export function renderPrometheusConfig(
  plan: TopologyPlan,
  controlPlane: boolean,
  waypoints: Array<{ namespace: string; name: string; gateway: string }> = [],
  sidecars: Array<{ namespace: string; name: string }> = [],
): string {
  const ipOf = (ns: string, name: string) => plan.pods.find((p) => p.namespace === ns && p.name === name)?.ip;
  return stringify({
    global: { scrape_interval: "5s", evaluation_interval: "5s" },
    scrape_configs: [
      ...(controlPlane
        ? [{ job_name: "control-plane", metrics_path: "/metrics", static_configs: [{ targets: [`${plan.bridgeIp}:15014`], labels: { app: "istiod" } }] }]
        : []),
      {
        job_name: "ztunnel",
        metrics_path: "/metrics",
        static_configs: plan.nodes.map((n) => ({ targets: [`${n.ip}:15020`], labels: { app: "ztunnel", node: n.name } })),
      },
      ...(waypoints.length
        ? [
            {
              job_name: "waypoint",
              metrics_path: "/metrics",
              static_configs: waypoints.map((w) => ({
                targets: [`${ipOf(w.namespace, w.name)}:15020`],
                labels: { app: "waypoint", namespace: w.namespace, gateway: w.gateway },
              })),
            },
          ]
        : []),
      ...(sidecars.length
        ? [
            {
              job_name: "sidecar",
              metrics_path: "/metrics",
              static_configs: sidecars.map((p) => ({
                targets: [`${ipOf(p.namespace, p.name)}:15020`],
                labels: { app: "sidecar", namespace: p.namespace, pod: p.name },
              })),
            },
          ]
        : []),
    ],
  });
}
