// The typed store between discovery and translation: Kubernetes objects by kind and key. Writes of an
// equal value are no-ops (no spurious pushes); subscribers hear about changes, and a new subscriber
// is told at once if there is anything to read.
import { isDeepStrictEqual } from "node:util";
import { emptySnapshot, KINDS, objectKey, type AnyObject, type ClusterSnapshot, type Kind, type KindTypes } from "../model/kube.ts";

export type ChangeListener = (kinds: ReadonlySet<Kind>) => void;

export class ObjectStore {
  private readonly data = new Map<Kind, Map<string, AnyObject>>(Object.keys(KINDS).map((k) => [k as Kind, new Map()]));
  private readonly listeners = new Set<ChangeListener>();
  private changes = 0;
  /** Sorted per-kind arrays, kept until that kind changes: several readers take a snapshot per change. */
  private readonly sorted = new Map<Kind, AnyObject[]>();
  /** Keys changed per kind since takeChanges() last ran; "all" after a wholesale replace (a relist). */
  private pending = new Map<Kind, Set<string> | "all">();

  /** Number of effective changes so far. */
  get revision(): number {
    return this.changes;
  }

  private notify(kinds: Set<Kind>): void {
    if (kinds.size === 0) return;
    for (const k of kinds) this.sorted.delete(k);
    this.changes++;
    for (const l of this.listeners) l(kinds);
  }

  upsert<K extends Kind>(kind: K, obj: KindTypes[K]): boolean {
    const m = this.data.get(kind)!;
    const key = objectKey(obj);
    if (isDeepStrictEqual(m.get(key), obj)) return false;
    m.set(key, obj);
    this.touch(kind, key);
    this.notify(new Set([kind]));
    return true;
  }

  remove(kind: Kind, key: string): boolean {
    if (!this.data.get(kind)!.delete(key)) return false;
    this.touch(kind, key);
    this.notify(new Set([kind]));
    return true;
  }

  /** Replaces every object of the given kinds (a relist, or a reread directory) in one change. */
  replace(objects: Partial<{ [K in Kind]: ReadonlyArray<KindTypes[K]> }>): boolean {
    const changed = new Set<Kind>();
    for (const [kind, list] of Object.entries(objects) as Array<[Kind, AnyObject[]]>) {
      const next = new Map(list.map((o) => [objectKey(o), o]));
      const cur = this.data.get(kind)!;
      if (cur.size === next.size && [...next].every(([k, v]) => isDeepStrictEqual(cur.get(k), v))) continue;
      this.data.set(kind, next);
      this.pending.set(kind, "all");
      changed.add(kind);
    }
    this.notify(changed);
    return changed.size > 0;
  }

  private touch(kind: Kind, key: string): void {
    const keys = this.pending.get(kind);
    if (keys === "all") return;
    if (keys) keys.add(key);
    else this.pending.set(kind, new Set([key]));
  }

  /** What changed since the last call, per kind: the keys, or "all" when the kind was replaced wholesale. */
  takeChanges(): ReadonlyMap<Kind, ReadonlySet<string> | "all"> {
    const out = this.pending;
    this.pending = new Map();
    return out;
  }

  get<K extends Kind>(kind: K, key: string): KindTypes[K] | undefined {
    return this.data.get(kind)!.get(key) as KindTypes[K] | undefined;
  }

  count(kind: Kind): number {
    return this.data.get(kind)!.size;
  }

  /** A consistent view for translation, each kind sorted by key. Callers must not modify it. */
  snapshot(): ClusterSnapshot {
    const snap = emptySnapshot() as unknown as Record<Kind, AnyObject[]>;
    for (const kind of this.data.keys()) snap[kind] = this.sortedList(kind);
    return snap as unknown as ClusterSnapshot;
  }

  /** One kind, sorted by key, without sorting the others (10,000 pods take ms). Callers must not modify it. */
  list<K extends Kind>(kind: K): ReadonlyArray<KindTypes[K]> {
    return this.sortedList(kind) as unknown as ReadonlyArray<KindTypes[K]>;
  }

  /**
   * One kind in no particular order, without copying or sorting: for readers that only scan (sorting
   * 50,000 pods on every change was a quarter of a change's CPU at that size, issue 13).
   */
  values<K extends Kind>(kind: K): Iterable<KindTypes[K]> {
    return this.data.get(kind)!.values() as Iterable<KindTypes[K]>;
  }

  private sortedList(kind: Kind): AnyObject[] {
    let list = this.sorted.get(kind);
    if (!list) {
      list = [...this.data.get(kind)!.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
      this.sorted.set(kind, list);
    }
    return list;
  }

  subscribe(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    if (this.changes > 0) listener(new Set(Object.keys(KINDS) as Kind[]));
    return () => this.listeners.delete(listener);
  }
}
