// Settings translation depends on. Everything else comes from the cluster snapshot.
export interface TranslateOptions {
  clusterId: string;
  trustDomain: string;
  /** Policies here without a selector apply mesh-wide. */
  rootNamespace: string;
  clusterDomain: string;
}

export const DEFAULT_TRANSLATE_OPTIONS: TranslateOptions = {
  clusterId: "Kubernetes",
  trustDomain: "cluster.local",
  rootNamespace: "istio-system",
  clusterDomain: "cluster.local",
};

/** A note about one input object: why it was rejected or left to another component. */
export interface ResourceNote {
  kind: string;
  namespace: string;
  name: string;
  /** "Rejected": invalid, not applied. "Partial": applied with changes. "Ignored": not for ztunnel. */
  status: "Rejected" | "Partial" | "Ignored";
  reason: string;
}

export const LABELS = {
  dataplaneMode: "istio.io/dataplane-mode",
  useWaypoint: "istio.io/use-waypoint",
  useWaypointNamespace: "istio.io/use-waypoint-namespace",
  canonicalName: "service.istio.io/canonical-name",
  canonicalRevision: "service.istio.io/canonical-revision",
  /** Set on pods that run our proxy as a sidecar (by injection): they take HBONE themselves. */
  proxy: "ambient-lab.io/proxy",
} as const;
