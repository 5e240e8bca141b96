// `ambientctl local apply/delete -f` for workloads: Pods, Deployments and waypoint Gateways become
// pods of the running cluster (applied.ts decides which, where and with what), recorded in the state
// file, and the supervisor makes the cluster follow (supervisor.ts requestReconcile). A failed start is
// rolled back, so a bad pod leaves nothing behind.
import { parseAllDocuments } from "yaml";
import { describeError, ErrorCode, MeshError } from "../shared/index.ts";
import { ApplyError, baseSpec, workloadFrom, type AppliedWorkload } from "./applied.ts";
import { ClusterView } from "./cluster-view.ts";
import { effectiveNamespaceLabels } from "./manifests-render.ts";
import type { StateRecorder } from "./state.ts";
import { requestReconcile } from "./supervisor.ts";

export interface WorkloadObject {
  kind: string;
  object: { metadata?: { name?: string; namespace?: string }; spec?: unknown };
}

/** Objects of these kinds make pods; a Gateway only when its class is istio-waypoint. */
export function isWorkload(o: WorkloadObject): boolean {
  return (
    o.kind === "Pod" ||
    o.kind === "Deployment" ||
    (o.kind === "Gateway" && (o.object.spec as { gatewayClassName?: string } | undefined)?.gatewayClassName === "istio-waypoint")
  );
}

export function workloadKey(o: WorkloadObject): string {
  return `${o.kind}/${o.object.metadata?.namespace ?? "default"}/${o.object.metadata?.name ?? ""}`;
}

/**
 * Takes the Deployments (apps/v1) out of a manifest file, which the control plane's parser does not
 * read (it never needs them); the rest is returned as YAML for that parser.
 */
export function takeDeployments(text: string, source: string): { deployments: WorkloadObject[]; rest: string; errors: string[] } {
  const deployments: WorkloadObject[] = [];
  const rest: string[] = [];
  const errors: string[] = [];
  parseAllDocuments(text).forEach((doc, i) => {
    const js = doc.errors.length ? undefined : (doc.toJS() as { kind?: unknown; apiVersion?: unknown; metadata?: { name?: unknown } } | null);
    if (js?.kind !== "Deployment") return void rest.push(doc.toString());
    if (js.apiVersion !== "apps/v1") errors.push(`${source} document ${i + 1} (Deployment): apiVersion must be apps/v1, got ${JSON.stringify(js.apiVersion)}`);
    else deployments.push({ kind: "Deployment", object: js as WorkloadObject["object"] });
  });
  return { deployments, rest: rest.join("---\n"), errors };
}

/**
 * Plans the workloads of `objects` against the recorded cluster, with the namespace labels `labels`
 * (this file's Namespace objects over the recorded ones). Throws ApplyError listing every problem.
 */
export function planWorkloads(recorder: StateRecorder, objects: WorkloadObject[], labels: Record<string, Record<string, string>>): AppliedWorkload[] {
  const spec = baseSpec(recorder.state.spec);
  const applied = [...(recorder.state.applied ?? [])];
  const plan = new ClusterView(spec).plan;
  const problems: string[] = [];
  const out: AppliedWorkload[] = [];
  for (const o of objects) {
    const key = workloadKey(o);
    // Applying an object again replaces it (the pods are recreated), as `kubectl apply` of a changed Pod would need.
    const others = applied.filter((a) => a.key !== key);
    try {
      const w = workloadFrom(o.kind, o.object as never, {
        spec,
        plan,
        namespaceLabels: (ns) => effectiveNamespaceLabels(recorder.state.spec.pods, labels, ns),
        applied: [...others, ...out],
      });
      out.push(w);
    } catch (err) {
      if (!(err instanceof ApplyError)) throw err;
      problems.push(err.message);
    }
  }
  if (problems.length) throw new ApplyError(problems.join("\n  "));
  return out;
}

/** Records `workloads` (or removes `keys`) and waits for the supervisor to make the cluster follow. */
export async function commitWorkloads(
  recorder: StateRecorder,
  change: { set: AppliedWorkload[]; remove: string[] },
  say: (line: string) => void,
): Promise<void> {
  const before = new Map((recorder.state.applied ?? []).map((a) => [a.key, a]));
  for (const key of change.remove) await recorder.setApplied(key, null);
  // A workload applied again is first removed, so its pods start from scratch.
  const replaced = change.set.filter((w) => before.has(w.key));
  for (const w of replaced) await recorder.setApplied(w.key, null);
  if (replaced.length) await requestReconcile(recorder.state, say);
  for (const w of change.set) await recorder.setApplied(w.key, w);
  try {
    await requestReconcile(recorder.state, say);
  } catch (err) {
    if (change.set.length === 0) throw err;
    // Roll back: the pods that did start are removed again, the record goes.
    for (const w of change.set) await recorder.setApplied(w.key, null);
    await requestReconcile(recorder.state, say).catch(() => undefined);
    throw new MeshError(ErrorCode.Exec, `the pods did not start, so nothing was applied: ${describeError(err)}`);
  }
}
