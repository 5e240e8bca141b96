// Pure: whether a pod being created gets our sidecar, with Istio's injection rules: if either the
// namespace's `istio-injection` label or the pod's `sidecar.istio.io/inject` (label, or the older
// annotation) says no (`disabled`, `false`), no; else if either says yes (`enabled`, `true`), yes; else no
// (Istio's default, enableNamespacesByDefault off). Pods on the host network, pods already carrying the
// proxy, and the mesh's own pods are never injected.
import { SIDECAR_CONTAINER } from "../../manifests/index.ts";

export const INJECT_LABEL = "sidecar.istio.io/inject";
export const NAMESPACE_INJECTION_LABEL = "istio-injection";

export interface PodView {
  metadata?: { namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: { hostNetwork?: boolean; initContainers?: Array<{ name?: string }>; containers?: Array<{ name?: string }> };
}

export type InjectionDecision = { inject: true; reason: string } | { inject: false; reason: string };

export function injectionDecision(pod: PodView, namespaceLabels: Readonly<Record<string, string>> | undefined, meshNamespace: string): InjectionDecision {
  const ns = pod.metadata?.namespace ?? "";
  if (ns === meshNamespace || ns === "kube-system") return { inject: false, reason: `pods in ${ns} are never injected` };
  if (pod.spec?.hostNetwork) return { inject: false, reason: "the pod uses the host's network" };
  if ([...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].some((c) => c.name === SIDECAR_CONTAINER)) {
    return { inject: false, reason: "the pod already has the proxy" };
  }
  const own = pod.metadata?.labels?.[INJECT_LABEL] ?? pod.metadata?.annotations?.[INJECT_LABEL];
  const nsLabel = namespaceLabels?.[NAMESPACE_INJECTION_LABEL];
  if (own === "false") return { inject: false, reason: `the pod says ${INJECT_LABEL}=false` };
  if (nsLabel === "disabled") return { inject: false, reason: `namespace ${ns} has ${NAMESPACE_INJECTION_LABEL}=disabled` };
  if (own === "true") return { inject: true, reason: `the pod says ${INJECT_LABEL}=true` };
  if (nsLabel === "enabled") return { inject: true, reason: `namespace ${ns} has ${NAMESPACE_INJECTION_LABEL}=enabled` };
  return { inject: false, reason: `neither the pod nor namespace ${ns} asks for injection` };
}
