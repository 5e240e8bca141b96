// The SPIFFE identity a workload runs as: its trust domain, namespace and service account.
import type { Identity } from "../../shared/index.ts";
import type { Workload } from "../state/types.ts";

export function identityOf(w: Workload): Identity {
  return { trustDomain: w.trustDomain, namespace: w.namespace, serviceAccount: w.serviceAccount };
}
