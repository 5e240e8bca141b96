// Kubernetes discovery: an informer per kind (@kubernetes/client-node's list-and-watch), feeding the
// store. The library resumes watches from the last resourceVersion and relists on 410 Gone; when a
// list or watch fails outright (API server down, RBAC missing), we restart the informer with backoff.
import {
  CoreV1Api,
  CustomObjectsApi,
  DiscoveryV1Api,
  makeInformer,
  type Informer,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
} from "@kubernetes/client-node";
import { Backoff } from "../../shared/index.ts";
import { describeError } from "../../shared/index.ts";
import type { Logger } from "../../shared/index.ts";
import { KINDS, objectKey, type AnyObject, type Kind } from "../model/kube.ts";
import type { ObjectStore } from "../store/object-store.ts";
import { project } from "./projection.ts";

type Lister = () => Promise<KubernetesListObject<KubernetesObject>>;

function path(kind: Kind): string {
  const k = KINDS[kind];
  return k.apiVersion === "v1" ? `/api/v1/${k.plural}` : `/apis/${k.apiVersion}/${k.plural}`;
}

function listers(kc: KubeConfig): Record<Kind, Lister> {
  const core = kc.makeApiClient(CoreV1Api);
  const disco = kc.makeApiClient(DiscoveryV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const crd = (kind: Kind): Lister => {
    const [group, version] = KINDS[kind].apiVersion.split("/") as [string, string];
    return () => custom.listClusterCustomObject({ group, version, plural: KINDS[kind].plural }) as Promise<KubernetesListObject<KubernetesObject>>;
  };
  return {
    Namespace: () => core.listNamespace() as Promise<KubernetesListObject<KubernetesObject>>,
    Node: () => core.listNode() as Promise<KubernetesListObject<KubernetesObject>>,
    Pod: () => core.listPodForAllNamespaces() as Promise<KubernetesListObject<KubernetesObject>>,
    Service: () => core.listServiceForAllNamespaces() as Promise<KubernetesListObject<KubernetesObject>>,
    EndpointSlice: () => disco.listEndpointSliceForAllNamespaces() as Promise<KubernetesListObject<KubernetesObject>>,
    AuthorizationPolicy: crd("AuthorizationPolicy"),
    PeerAuthentication: crd("PeerAuthentication"),
    Gateway: crd("Gateway"),
    HTTPRoute: crd("HTTPRoute"),
  };
}

/**
 * Objects arrive without apiVersion/kind inside lists; give them theirs, as files have them, and keep
 * what the control plane reads (projection.ts: status-only writes then change nothing).
 */
function typed(kind: Kind, o: KubernetesObject): AnyObject {
  return project(kind, { ...o, apiVersion: KINDS[kind].apiVersion, kind } as unknown as AnyObject);
}

export class KubeSource {
  private readonly kc: KubeConfig;
  private readonly store: ObjectStore;
  private readonly log: Logger;
  private readonly kinds: Kind[];
  private readonly informers = new Map<Kind, Informer<KubernetesObject>>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;

  constructor(opts: { kubeConfig: KubeConfig; store: ObjectStore; log: Logger; kinds?: Kind[] }) {
    this.kc = opts.kubeConfig;
    this.store = opts.store;
    this.log = opts.log;
    this.kinds = opts.kinds ?? (Object.keys(KINDS) as Kind[]);
  }

  /** Starts every informer and resolves once each has completed its first list. */
  async start(): Promise<void> {
    const list = listers(this.kc);
    await Promise.all(this.kinds.map((kind) => this.startKind(kind, list[kind])));
  }

  private async startKind(kind: Kind, lister: Lister): Promise<void> {
    let listed!: () => void;
    const firstList = new Promise<void>((r) => (listed = r));
    const informer = makeInformer(this.kc, path(kind), async () => {
      const result = await lister();
      listed();
      return result;
    });
    this.informers.set(kind, informer);
    const upsert = (o: KubernetesObject) => this.store.upsert(kind, typed(kind, o) as never);
    informer.on("add", upsert);
    informer.on("update", upsert);
    informer.on("delete", (o) => this.store.remove(kind, objectKey(o as { metadata?: { name?: string; namespace?: string } })));
    const backoff = new Backoff({ initialMs: 500, maxMs: 30_000 });
    informer.on("connect", () => backoff.reset());
    informer.on("error", (err: unknown) => {
      if (this.stopped) return;
      const delay = backoff.next();
      this.log.warn(
        { kind, err: describeError(err), retryInMs: delay },
        `watching ${kind} failed; retrying (check the API server and the control plane's RBAC for ${path(kind)})`,
      );
      const t = setTimeout(() => {
        this.timers.delete(t);
        if (!this.stopped) informer.start().catch(() => undefined);
      }, delay);
      this.timers.add(t);
    });
    // A failed first list is retried by the error handler; we resolve only once one succeeded, so the
    // control plane never serves an empty mesh by mistake.
    await informer.start().catch((err: unknown) => this.log.warn({ kind, err: describeError(err) }, `starting the ${kind} informer failed`));
    await firstList;
  }

  async close(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    await Promise.all([...this.informers.values()].map((i) => i.stop()));
  }
}
