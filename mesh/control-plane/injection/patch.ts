// Pure: the JSON Patch (RFC 6902) that turns a pod into the same pod with our sidecar, as render-time
// injection makes it (manifests/sidecar.ts injectTemplate: one definition of the sidecar for both).
// Whole fields are added or replaced (labels, initContainers, volumes), so the patch does not depend on
// how the API server ordered what it already defaulted.
import { injectTemplate, type SidecarOptions, type Template } from "../../manifests/index.ts";

export type JsonPatchOp = { op: "add" | "replace"; path: string; value: unknown };

interface PodLike {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown> & { containers?: unknown[] };
}

export function injectionPatch(pod: PodLike, sidecar: SidecarOptions): JsonPatchOp[] {
  const template: Template = {
    metadata: { ...(pod.metadata?.labels ? { labels: pod.metadata.labels } : {}) },
    spec: { containers: [], ...pod.spec } as Template["spec"],
  };
  const injected = injectTemplate(template, sidecar);
  const ops: JsonPatchOp[] = [];
  const set = (path: string, before: unknown, value: unknown) => ops.push({ op: before === undefined ? "add" : "replace", path, value });
  if (!pod.metadata) ops.push({ op: "add", path: "/metadata", value: {} });
  set("/metadata/labels", pod.metadata?.labels, injected.metadata?.labels);
  set("/spec/initContainers", pod.spec?.initContainers, injected.spec.initContainers);
  set("/spec/volumes", pod.spec?.volumes, injected.spec.volumes);
  return ops;
}
