// Settings translation depends on. Everything else comes from the cluster snapshot.
import { DEFAULT_CLUSTER_DOMAIN, DEFAULT_TRUST_DOMAIN } from "../../shared/index.ts";
export interface TranslateOptions {
  clusterId: string;
  trustDomain: string;
  /** Policies here without a selector apply mesh-wide. */
  rootNamespace: string;
  clusterDomain: string;
}

export const DEFAULT_TRANSLATE_OPTIONS: TranslateOptions = {
  clusterId: "Kubernetes",
  trustDomain: DEFAULT_TRUST_DOMAIN,
  rootNamespace: "istio-system",
  clusterDomain: DEFAULT_CLUSTER_DOMAIN,
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

// The label names are the API's (mesh/api/labels.ts).
export { LABELS } from "../../api/index.ts";
