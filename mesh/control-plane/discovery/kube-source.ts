// Kubernetes discovery: per kind, list then watch from the list's resourceVersion, feeding the store
// with each object's projection (projection.ts) and nothing else. client-node's informer (ListWatch)
// kept every object whole in a cache of its own, a second copy of the cluster beside the store (with
// managedFields and full statuses: most of a pod's bytes) that nothing here reads: one copy is kept now
// (issue 13). The protocol is the informer's: a watch that ends is resumed from the last
// resourceVersion seen (events and bookmarks), an expired one (410 Gone) is replaced by a relist that
// also removes what was deleted meanwhile, and a list or watch that fails is retried with backoff.
import { CoreV1Api, CustomObjectsApi, DiscoveryV1Api, Watch, type KubeConfig, type KubernetesListObject, type KubernetesObject } from "@kubernetes/client-node";
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
    GRPCRoute: crd("GRPCRoute"),
  };
}

/**
 * Objects arrive without apiVersion/kind inside lists; give them theirs, as files have them, and keep
 * what the control plane reads (projection.ts: status-only writes then change nothing).
 */
function typed(kind: Kind, o: KubernetesObject): AnyObject {
  return project(kind, { ...o, apiVersion: KINDS[kind].apiVersion, kind } as unknown as AnyObject);
}

/** How a watch ended: resumable from the last resourceVersion, or expired (relist). */
type WatchEnd = "resume" | "expired";

function isGone(err: unknown): boolean {
  const e = err as { statusCode?: number; code?: number } | null;
  return e?.statusCode === 410 || e?.code === 410;
}

/** One kind's list-and-watch loop. */
class KindSync {
  private rv = "";
  private abort: AbortController | undefined;
  private wake: (() => void) | undefined;
  private stopped = false;
  private readonly backoff = new Backoff({ initialMs: 500, maxMs: 30_000 });
  private loop: Promise<void> | undefined;

  private readonly kind: Kind;
  private readonly lister: Lister;
  private readonly watch: Watch;
  private readonly store: ObjectStore;
  private readonly log: Logger;

  constructor(kind: Kind, lister: Lister, watch: Watch, store: ObjectStore, log: Logger) {
    this.kind = kind;
    this.lister = lister;
    this.watch = watch;
    this.store = store;
    this.log = log;
  }

  /** Starts the loop; resolves once the first list is in the store. */
  start(): Promise<void> {
    return new Promise<void>((listed) => {
      this.loop = this.run(listed);
    });
  }

  private async run(listed: () => void): Promise<void> {
    while (!this.stopped) {
      try {
        await this.list();
        listed();
        this.backoff.reset();
        // A watch the server (or our inactivity timeout) ended is resumed where it stopped; one that ended
        // at once without an event waits first, so a server that keeps closing them is not hammered.
        for (;;) {
          const started = performance.now();
          const w = await this.watchOnce();
          if (this.stopped || w.end === "expired") break;
          if (w.events === 0 && performance.now() - started < 1000) await this.sleep(this.backoff.next());
        }
      } catch (err) {
        if (this.stopped) break;
        const delay = this.backoff.next();
        this.log.warn(
          { kind: this.kind, err: describeError(err), retryInMs: delay },
          `watching ${this.kind} failed; retrying (check the API server and the control plane's RBAC for ${path(this.kind)})`,
        );
        await this.sleep(delay);
      }
    }
  }

  /** Waits `ms`, or less if closed meanwhile. */
  private sleep(ms: number): Promise<void> {
    return new Promise<void>((r) => {
      const t = setTimeout(r, ms);
      this.wake = () => {
        clearTimeout(t);
        r();
      };
    });
  }

  /** Lists the kind; the store then holds exactly the list (what was deleted while we were away goes). */
  private async list(): Promise<void> {
    const list = await this.lister();
    const keys = new Set<string>();
    for (const o of list.items) {
      keys.add(objectKey(o));
      this.store.upsert(this.kind, typed(this.kind, o) as never);
    }
    for (const o of this.store.list(this.kind)) {
      const key = objectKey(o);
      if (!keys.has(key)) this.store.remove(this.kind, key);
    }
    this.rv = list.metadata?.resourceVersion ?? "";
  }

  /** One watch from the current resourceVersion, until it ends; how, and how many events it brought. */
  private watchOnce(): Promise<{ end: WatchEnd; events: number }> {
    return new Promise<{ end: WatchEnd; events: number }>((resolve, reject) => {
      let expired = false;
      let events = 0;
      const onEvent = (type: string, obj: KubernetesObject & { code?: number }) => {
        if (type === "ERROR") {
          if (obj.code === 410) expired = true;
          return;
        }
        if (type === "ADDED" || type === "MODIFIED") this.store.upsert(this.kind, typed(this.kind, obj) as never);
        else if (type === "DELETED") this.store.remove(this.kind, objectKey(obj));
        // Every event, bookmarks too, carries the resourceVersion to resume from.
        this.rv = obj.metadata?.resourceVersion ?? this.rv;
        events++;
        this.backoff.reset();
      };
      const onDone = (err: unknown) => {
        this.abort = undefined;
        if (expired || isGone(err)) resolve({ end: "expired", events });
        else if (!err || (err as Error).name === "TimeoutError" || this.stopped) resolve({ end: "resume", events });
        else reject(err);
      };
      this.watch.watch(path(this.kind), { resourceVersion: this.rv, allowWatchBookmarks: true }, onEvent, onDone).then((abort) => {
        this.abort = abort;
        if (this.stopped) abort.abort();
      }, reject);
    });
  }

  async close(): Promise<void> {
    this.stopped = true;
    this.abort?.abort();
    this.wake?.();
    await this.loop?.catch(() => undefined);
  }
}

export class KubeSource {
  private readonly kc: KubeConfig;
  private readonly store: ObjectStore;
  private readonly log: Logger;
  private readonly kinds: Kind[];
  private readonly syncs: KindSync[] = [];

  constructor(opts: { kubeConfig: KubeConfig; store: ObjectStore; log: Logger; kinds?: Kind[] }) {
    this.kc = opts.kubeConfig;
    this.store = opts.store;
    this.log = opts.log;
    this.kinds = opts.kinds ?? (Object.keys(KINDS) as Kind[]);
  }

  /**
   * Starts every kind's list-and-watch and resolves once each has completed its first list: a failed
   * first list is retried, so the control plane never serves an empty mesh by mistake.
   */
  async start(): Promise<void> {
    const list = listers(this.kc);
    const watch = new Watch(this.kc);
    for (const kind of this.kinds) this.syncs.push(new KindSync(kind, list[kind], watch, this.store, this.log));
    await Promise.all(this.syncs.map((s) => s.start()));
  }

  async close(): Promise<void> {
    await Promise.all(this.syncs.map((s) => s.close()));
  }
}
