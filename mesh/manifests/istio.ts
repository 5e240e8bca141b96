// Pure: upstream Istio in ambient mode, as the lab installs it when a stack sets `ambient-lab:mesh` to
// `istio`: Istio's four Helm charts, pinned, with the values we rely on, in the order Istio's Helm install
// documentation gives (base and its CRDs, istiod with the ambient profile, the CNI node agent, ztunnel).
// Every value set here is checked against the pinned charts' own values.yaml (copies under
// components/testdata/istio-<version>/, with their source).
// The mesh root comes from cert-manager as with our mesh: istiod reads the `cacerts` Secret in
// cert-manager's layout (tls.crt, tls.key, ca.crt) as its plug-in CA (istio pilot/pkg/bootstrap/istio_ca.go,
// detectSigningCABundleAndCRL).

export const ISTIO_VERSION = "1.30.3";
export const ISTIO_CHART_REPO = "https://istio-release.storage.googleapis.com/charts";
/** The container every Istio proxy runs in: ztunnel's DaemonSet, waypoints and injected sidecars. */
export const ISTIO_PROXY_CONTAINER = "istio-proxy";

export type IstioChartName = "base" | "istiod" | "cni" | "ztunnel";

export interface IstioChart {
  /** The Helm release name (as Istio's docs name them). */
  release: string;
  chart: IstioChartName;
  version: string;
  namespace: string;
  values: Record<string, unknown>;
  /** Releases this one is installed after. */
  after: string[];
}

export interface IstioOptions {
  namespace: string;
  trustDomain: string;
  version?: string;
}

export function istioCharts(o: IstioOptions): IstioChart[] {
  const version = o.version ?? ISTIO_VERSION;
  const chart = (release: string, name: IstioChartName, values: Record<string, unknown>, after: string[]): IstioChart => ({
    release,
    chart: name,
    version,
    namespace: o.namespace,
    values,
    after,
  });
  return [
    // The CRDs and the cluster-wide validation; nothing else runs before them.
    chart("istio-base", "base", {}, []),
    chart(
      "istiod",
      "istiod",
      {
        profile: "ambient",
        meshConfig: { trustDomain: o.trustDomain },
        // Sized for a kind node or a t3.medium (the chart asks 500m and 2 GiB), one replica.
        autoscaleEnabled: false,
        resources: { requests: { cpu: "100m", memory: "512Mi" } },
        // The sidecar mode's k6 Job must complete: a native sidecar (an init container that keeps
        // running) ends with the Job's container, where a plain one would hold the Job open forever.
        env: { ENABLE_NATIVE_SIDECARS: "true" },
      },
      ["istio-base"],
    ),
    chart("istio-cni", "cni", { profile: "ambient" }, ["istiod"]),
    chart("ztunnel", "ztunnel", { profile: "ambient", resources: { requests: { cpu: "50m", memory: "128Mi" } } }, ["istio-cni"]),
  ];
}

/** Labels of a sample namespace under Istio: ambient enrolment is the same label; sidecars by Istio's injector. */
export function istioNamespaceLabels(mode: "ambient" | "waypoint" | "sidecar" | "none"): Record<string, string> {
  if (mode === "sidecar") return { "istio-injection": "enabled" };
  return {};
}
