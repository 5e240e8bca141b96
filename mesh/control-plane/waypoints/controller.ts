// Kubernetes mode: the deployment controller for waypoints. For every istio-waypoint Gateway it applies
// the ServiceAccount, Deployment and Service (server-side apply, owned by the Gateway so Kubernetes
// removes them with it) and reports Accepted/Programmed in the Gateway's status. Re-applies only
// what changed; a failure is logged with what to check and retried on the next change.
import { AppsV1Api, CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from "@kubernetes/client-node";
import { describeError } from "../../shared/index.ts";
import type { Logger } from "../../shared/index.ts";
import type { Gateway } from "../model/kube.ts";
import { isWaypointGateway, waypointObjects, waypointStatus, type WaypointDeploymentOptions } from "./objects.ts";

const FIELD_MANAGER = "ambient-lab-control-plane";

export class WaypointController {
  private readonly core: CoreV1Api;
  private readonly apps: AppsV1Api;
  private readonly custom: CustomObjectsApi;
  private readonly opts: WaypointDeploymentOptions;
  private readonly clusterDomain: string;
  private readonly log: Logger;
  /** What was last applied per Gateway ("ns/name"), to skip unchanged ones. */
  private readonly applied = new Map<string, string>();

  constructor(o: { kubeConfig: KubeConfig; options: WaypointDeploymentOptions; clusterDomain: string; log: Logger }) {
    this.core = o.kubeConfig.makeApiClient(CoreV1Api);
    this.apps = o.kubeConfig.makeApiClient(AppsV1Api);
    this.custom = o.kubeConfig.makeApiClient(CustomObjectsApi);
    this.opts = o.options;
    this.clusterDomain = o.clusterDomain;
    this.log = o.log;
  }

  async sync(gateways: readonly Gateway[]): Promise<void> {
    const seen = new Set<string>();
    for (const g of gateways.filter(isWaypointGateway)) {
      const key = `${g.metadata?.namespace}/${g.metadata?.name}`;
      seen.add(key);
      const objects = waypointObjects(g, this.opts);
      const text = JSON.stringify(objects);
      if (this.applied.get(key) === text) continue;
      try {
        const ssa = setHeaderOptions("Content-Type", PatchStrategy.ServerSideApply);
        const common = { fieldManager: FIELD_MANAGER, force: true };
        for (const o of objects) {
          const name = o.metadata.name;
          const namespace = o.metadata.namespace!;
          if (o.kind === "ServiceAccount") await this.core.patchNamespacedServiceAccount({ name, namespace, body: o, ...common }, ssa);
          else if (o.kind === "Deployment") await this.apps.patchNamespacedDeployment({ name, namespace, body: o, ...common }, ssa);
          else if (o.kind === "Service") await this.core.patchNamespacedService({ name, namespace, body: o, ...common }, ssa);
        }
        await this.custom.patchNamespacedCustomObjectStatus(
          {
            group: "gateway.networking.k8s.io",
            version: "v1",
            namespace: g.metadata!.namespace!,
            plural: "gateways",
            name: g.metadata!.name!,
            body: { status: waypointStatus(g, this.clusterDomain, new Date().toISOString()) },
          },
          setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
        );
        this.applied.set(key, text);
        this.log.info({ gateway: key, image: this.opts.image }, "waypoint deployed");
      } catch (err) {
        this.log.warn(
          { gateway: key, err: describeError(err) },
          "deploying the waypoint failed (may the control plane patch deployments, services and serviceaccounts, and gateways/status?); retrying on the next change",
        );
      }
    }
    // Removed Gateways: Kubernetes garbage-collects their objects through the owner references.
    for (const key of [...this.applied.keys()]) if (!seen.has(key)) this.applied.delete(key);
  }
}
