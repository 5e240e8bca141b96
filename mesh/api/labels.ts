// The labels that are part of the user-facing API (Istio's, and ours for injected sidecars): one
// definition for the control plane, the manifests, the local cluster and the tools.
export const LABELS = {
  dataplaneMode: "istio.io/dataplane-mode",
  useWaypoint: "istio.io/use-waypoint",
  useWaypointNamespace: "istio.io/use-waypoint-namespace",
  waypointFor: "istio.io/waypoint-for",
  canonicalName: "service.istio.io/canonical-name",
  canonicalRevision: "service.istio.io/canonical-revision",
  gatewayName: "gateway.networking.k8s.io/gateway-name",
  /** Set on pods that run our proxy as a sidecar (by injection): they take HBONE themselves. */
  proxy: "ambient-lab.io/proxy",
} as const;
