// Kubernetes mode: each mesh HTTPRoute's and GRPCRoute's status, as the Gateway API has a route's implementation report
// it: per Service parentRef, Accepted (True, or False with the reason translation rejected it: a filter,
// match or timeout the waypoint cannot enforce exactly is never applied in part) and ResolvedRefs.
// Routes whose parents are not Services belong to a gateway controller and get nothing from us.
import { CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from "@kubernetes/client-node";
import { describeError } from "../shared/index.ts";
import type { Logger } from "../shared/index.ts";
import type { GRPCRoute, HTTPRoute } from "./model/kube.ts";

type Route = HTTPRoute | GRPCRoute;
const PLURAL = { HTTPRoute: "httproutes", GRPCRoute: "grpcroutes" } as const;
import type { ResourceNote } from "./translate/index.ts";

/** The istio-waypoint GatewayClass's controller (manifests/mesh.ts): the mesh's name in route statuses. */
export const MESH_CONTROLLER = "istio.io/mesh-controller";

interface Condition {
  type: "Accepted" | "ResolvedRefs";
  status: "True" | "False";
  reason: string;
  message: string;
  observedGeneration?: number;
}

export interface RouteParentStatus {
  parentRef: { group: ""; kind: "Service"; name: string; namespace: string; port?: number };
  controllerName: string;
  conditions: Condition[];
}

type ParentRef = { group?: string; kind?: string; name?: string; namespace?: string; port?: number };

/** Pure: the status.parents each mesh route should carry, by "Kind/namespace/name". */
export function routeStatuses(routes: readonly Route[], notes: readonly ResourceNote[]): Map<string, RouteParentStatus[]> {
  const rejected = new Map(notes.filter((n) => n.status === "Rejected").map((n) => [`${n.kind}/${n.namespace}/${n.name}`, n.reason]));
  const out = new Map<string, RouteParentStatus[]>();
  for (const r of routes) {
    const ns = r.metadata?.namespace ?? "";
    const key = `${r.kind}/${ns}/${r.metadata?.name ?? ""}`;
    const refs = ((r.spec as { parentRefs?: ParentRef[] } | undefined)?.parentRefs ?? []).filter(
      (p) => ((p.group ?? "") === "" || p.group === "core") && (p.kind ?? "Service") === "Service" && p.name,
    );
    if (refs.length === 0) continue;
    const reason = rejected.get(key);
    const generation = r.metadata?.generation;
    const gen = generation !== undefined ? { observedGeneration: generation } : {};
    out.set(
      key,
      refs.map((p) => ({
        parentRef: { group: "", kind: "Service", name: p.name!, namespace: p.namespace ?? ns, ...(p.port ? { port: p.port } : {}) },
        controllerName: MESH_CONTROLLER,
        conditions: [
          reason === undefined
            ? { type: "Accepted", status: "True", reason: "Accepted", message: "served by the Service's waypoint", ...gen }
            : { type: "Accepted", status: "False", reason: "UnsupportedValue", message: reason, ...gen },
          { type: "ResolvedRefs", status: "True", reason: "ResolvedRefs", message: "", ...gen },
        ],
      })),
    );
  }
  return out;
}

export class RouteStatusWriter {
  private readonly api: CustomObjectsApi;
  private readonly log: Logger;
  private readonly written = new Map<string, string>();

  constructor(kubeConfig: KubeConfig, log: Logger) {
    this.api = kubeConfig.makeApiClient(CustomObjectsApi);
    this.log = log;
  }

  async update(routes: readonly Route[], notes: readonly ResourceNote[]): Promise<void> {
    const want = routeStatuses(routes, notes);
    for (const [key, parents] of want) {
      const text = JSON.stringify(parents);
      if (this.written.get(key) === text) continue;
      const [kind, namespace, name] = key.split("/") as [Route["kind"], string, string];
      const now = new Date().toISOString();
      try {
        await this.api.patchNamespacedCustomObjectStatus(
          {
            group: "gateway.networking.k8s.io",
            version: "v1",
            namespace,
            plural: PLURAL[kind],
            name,
            body: { status: { parents: parents.map((p) => ({ ...p, conditions: p.conditions.map((c) => ({ ...c, lastTransitionTime: now })) })) } },
          },
          setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
        );
        this.written.set(key, text);
      } catch (err) {
        this.log.warn({ route: key, err: describeError(err) }, `writing the ${kind} status failed (may the control plane patch ${PLURAL[kind]}/status?)`);
      }
    }
    for (const key of [...this.written.keys()]) if (!want.has(key)) this.written.delete(key);
  }
}
