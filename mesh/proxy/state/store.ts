// Holds the current ProxyState and tells subscribers when it changes. A write of an equal
// config is a no-op, so a file rewritten with the same content does not re-check every connection.
import { isDeepStrictEqual } from "node:util";
import type { ProxyResources } from "./types.ts";
import { ProxyState, type ProxyDelta } from "./proxy-state.ts";

export type StateListener = (state: ProxyState) => void;

export class StateStore {
  private state: ProxyState;
  private raw: ProxyResources | undefined;
  private readonly listeners = new Set<StateListener>();
  private version = 0;

  private readonly rootNamespace: string;

  constructor(rootNamespace = "istio-system") {
    this.rootNamespace = rootNamespace;
    this.state = new ProxyState({ workloads: [], services: [], policies: [] }, rootNamespace);
  }

  get current(): ProxyState {
    return this.state;
  }

  /** How many distinct configs have been applied; 0 means none yet (not ready). */
  get generation(): number {
    return this.version;
  }

  /**
   * Applies a new config. `known` says the caller already knows it differs (a config stream response),
   * which skips the deep comparison: on a large mesh that comparison costs more than building the state.
   */
  replace(snapshot: ProxyResources, known: "changed" | "unknown" = "unknown"): boolean {
    if (known === "unknown" && this.raw && isDeepStrictEqual(this.raw, snapshot)) return false;
    this.raw = snapshot;
    this.state = new ProxyState(snapshot, this.rootNamespace);
    this.version++;
    for (const l of this.listeners) l(this.state);
    return true;
  }

  /** Applies what changed since the current config (the config stream, after its first whole config). */
  applyDelta(delta: ProxyDelta): void {
    this.raw = undefined;
    this.state = this.state.applyDelta(delta);
    this.version++;
    for (const l of this.listeners) l(this.state);
  }

  /** A new subscriber first receives the current state, if any config was applied. */
  subscribe(listener: StateListener): () => void {
    this.listeners.add(listener);
    if (this.version > 0) listener(this.state);
    return () => this.listeners.delete(listener);
  }
}
