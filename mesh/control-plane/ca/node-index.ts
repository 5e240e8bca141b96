// Which identities run on which node, from the pods in the store; rebuilt only when the store changed.
import type { Identity } from "../../shared/index.ts";
import type { ObjectStore } from "../store/object-store.ts";

export class NodeIdentityIndex {
  private readonly store: ObjectStore;
  private revision = -1;
  private index = new Map<string, Set<string>>();

  constructor(store: ObjectStore) {
    this.store = store;
  }

  has(identity: Identity, node: string): boolean {
    if (this.revision !== this.store.revision) this.rebuild();
    return this.index.get(node)?.has(`${identity.namespace}/${identity.serviceAccount}`) ?? false;
  }

  private rebuild(): void {
    const next = new Map<string, Set<string>>();
    for (const pod of this.store.snapshot().Pod) {
      const node = pod.spec?.nodeName;
      if (!node || pod.spec?.hostNetwork) continue;
      const set = next.get(node) ?? new Set<string>();
      set.add(`${pod.metadata?.namespace}/${pod.spec?.serviceAccountName || "default"}`);
      next.set(node, set);
    }
    this.index = next;
    this.revision = this.store.revision;
  }
}
