// Pure: how kube-prometheus-stack sees the mesh. The chart's values (trimmed for three small nodes),
// PodMonitors for the control plane, ztunnels and waypoints, and the mesh's Grafana dashboard as a
// ConfigMap that Grafana's sidecar loads. Used by the Pulumi Monitoring component and the GitOps render.
import { meshDashboard } from "./dashboard.ts";
import type { KubeObject } from "./mesh.ts";
import { LABELS } from "../api/index.ts";

export const MONITORING_NAMESPACE = "monitoring";
/** Short fixed object names: the benchmark queries Prometheus at service "kps-prometheus". */
export const KPS_FULLNAME = "kps";
export const PROMETHEUS_SERVICE = `${KPS_FULLNAME}-prometheus`;
/** The label kube-prometheus-stack's Grafana sidecar watches for dashboards (the chart's default). */
export const DASHBOARD_LABEL = "grafana_dashboard";

const PART_OF = { "app.kubernetes.io/part-of": "ambient-lab" };

export function kubePrometheusStackValues(): Record<string, unknown> {
  return {
    fullnameOverride: KPS_FULLNAME,
    // Three t3.medium nodes hold 17 pods each: nothing the mesh dashboard does not use.
    alertmanager: { enabled: false },
    nodeExporter: { enabled: false },
    // EKS and kind do not expose these control-plane components; their targets would only be down.
    kubeEtcd: { enabled: false },
    kubeScheduler: { enabled: false },
    kubeControllerManager: { enabled: false },
    kubeProxy: { enabled: false },
    // Grafana generates its admin password into a Secret: no credential in code, Git or stack state.
    grafana: {
      enabled: true,
      persistence: { enabled: false },
      sidecar: { dashboards: { enabled: true, label: DASHBOARD_LABEL, labelValue: "1", searchNamespace: "ALL" } },
    },
    prometheus: {
      prometheusSpec: {
        retention: "2d",
        resources: { requests: { cpu: "200m", memory: "512Mi" } },
        // Select every PodMonitor/ServiceMonitor, not only those labelled with this Helm release.
        podMonitorSelectorNilUsesHelmValues: false,
        serviceMonitorSelectorNilUsesHelmValues: false,
      },
    },
  };
}

function podMonitor(name: string, namespace: string | undefined, matchLabels: Record<string, string>, port: string, path: string): KubeObject {
  return {
    apiVersion: "monitoring.coreos.com/v1",
    kind: "PodMonitor",
    metadata: { name, namespace: MONITORING_NAMESPACE, labels: PART_OF },
    spec: {
      selector: { matchLabels },
      namespaceSelector: namespace ? { matchNames: [namespace] } : { any: true },
      podMetricsEndpoints: [
        {
          port,
          path,
          interval: "15s",
          // The node a ztunnel serves, for per-node panels.
          relabelings: [{ sourceLabels: ["__meta_kubernetes_pod_node_name"], targetLabel: "node", action: "replace" }],
        },
      ],
    },
  };
}

/** PodMonitors (the control plane's admin port; ztunnel, waypoint and sidecar metrics on 15020) and the dashboard. */
export function meshMonitoringObjects(o: { meshNamespace: string; mesh?: "ambient-lab" | "istio" }): KubeObject[] {
  if (o.mesh === "istio") return [...istioPodMonitors(o.meshNamespace), dashboardConfigMap()];
  return [
    podMonitor("ambient-lab-control-plane", o.meshNamespace, { app: "istiod" }, "http-admin", "/metrics"),
    podMonitor("ambient-lab-ztunnel", o.meshNamespace, { app: "ztunnel" }, "http-metrics", "/metrics"),
    // Waypoints live in the application namespaces; Istio labels their pods with the Gateway's class.
    podMonitor("ambient-lab-waypoint", undefined, { "gateway.istio.io/managed": "istio.io-mesh-controller" }, "http-metrics", "/metrics"),
    // Sidecar-mode pods: our proxy's metrics port in each (a native sidecar, i.e. an init container).
    podMonitor("ambient-lab-sidecar", undefined, { [LABELS.proxy]: "sidecar" }, "http-metrics", "/metrics"),
    dashboardConfigMap(),
  ];
}

export const METRICS_SERVER_REPO = "https://kubernetes-sigs.github.io/metrics-server/";

/** metrics-server's chart values; on kind its kubelets' self-signed serving certificates must be accepted. */
export function metricsServerValues(insecureKubeletTls: boolean): Record<string, unknown> {
  return { args: insecureKubeletTls ? ["--kubelet-insecure-tls"] : [], resources: { requests: { cpu: "50m", memory: "64Mi" } } };
}

/** The mesh dashboard for Grafana's sidecar (the same panels for both meshes: the metric names are Istio's). */
function dashboardConfigMap(): KubeObject {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "ambient-lab-dashboard", namespace: MONITORING_NAMESPACE, labels: { ...PART_OF, [DASHBOARD_LABEL]: "1" } },
    data: { "ambient-lab-mesh.json": JSON.stringify(meshDashboard(), null, 2) },
  };
}

/**
 * Upstream Istio's proxies, as its 1.30 charts and templates name them: istiod's `http-monitoring` (15014);
 * ztunnel's `ztunnel-stats` (15020, /stats/prometheus); waypoints (labelled gateway.istio.io/managed) and
 * injected sidecars (labelled security.istio.io/tlsMode) on Envoy's `http-envoy-prom` (15090).
 */
function istioPodMonitors(meshNamespace: string): KubeObject[] {
  return [
    podMonitor("istio-istiod", meshNamespace, { app: "istiod" }, "http-monitoring", "/metrics"),
    podMonitor("istio-ztunnel", meshNamespace, { app: "ztunnel" }, "ztunnel-stats", "/stats/prometheus"),
    podMonitor("istio-waypoint", undefined, { "gateway.istio.io/managed": "istio.io-mesh-controller" }, "http-envoy-prom", "/stats/prometheus"),
    podMonitor("istio-sidecar", undefined, { "security.istio.io/tlsMode": "istio" }, "http-envoy-prom", "/stats/prometheus"),
  ];
}
