// A proxy runs V8 in its efficiency mode from start until it holds its first whole config, then in V8's
// defaults. A first sync is one pass over the whole cluster (10,000 workloads read once each): V8's
// default tiering spends more CPU compiling that pass with TurboFan (on a background thread, ~70 ms of a
// proxy's ~180) than the optimized code saves before the pass ends, and its parallel collection pays for
// helper threads on cores the other proxies share. Efficiency mode keeps such code in Maglev until it has
// run 15,000 times and collects on the proxy's own thread: one proxy's cold first sync took 97-123 ms of
// CPU instead of 176-196, and ten proxies syncing together on 2 vCPUs about 1 s instead of about 1.5
// (bench:proxy-sync, bench:control-plane, README: Performance; issue 13). The data path is different
// code that runs for the proxy's whole life, where TurboFan and parallel collection pay for themselves:
// with efficiency mode kept on, ztunnel cost more CPU per request and added latency, so the mode ends with
// the first config, before any workload is served. A proxy that never gets a config serves nothing (it
// fails closed), so staying in the mode costs nothing there.
//
// V8 made efficiency mode to change at run time (an embedder moves an isolate between priorities); Node
// exposes no priority, so the mode is forced on and off with its flag, which V8 reads at each tiering
// decision and each collection. An operator who sets the flag on node's command line has chosen, and is
// left alone (Node refuses it in NODE_OPTIONS).
//
// The mode must be on before the rest of the proxy loads: begun after the modules had loaded, a cold sync
// took 115 ms of CPU (median of 10) against 93 begun before them, and a major collection still fell inside
// it. So this module imports nothing at run time but node:v8 (an entry of mesh/proxy of its own,
// ARCHITECTURE.md), and each proxy's main.ts begins the mode and only then imports the program.
import v8 from "node:v8";
import type { Logger } from "../shared/index.ts";
import type { StateStore } from "./state/store.ts";

export interface StartupEfficiencyDeps {
  /** Sets V8 flags (v8.setFlagsFromString). */
  setFlags?: (flags: string) => void;
  /** The node options the process started with (process.execArgv). */
  nodeOptions?: readonly string[];
  log?: Pick<Logger, "info" | "debug">;
  now?: () => number;
}

/** What STARTUP_EFFICIENCY (config-sources.ts) says, read before the configuration is: anything but "off" is on. */
export function startupEfficiencyWanted(env: Record<string, string | undefined> = process.env): boolean {
  return env.STARTUP_EFFICIENCY !== "off";
}

const OPERATOR_FLAG = /^--(no-)?efficiency[-_]mode(=|$)/;

/** Efficiency mode from begin() until end(); a no-op when disabled or when the operator set the flag. */
export class StartupEfficiency {
  private readonly setFlags: (flags: string) => void;
  private log: Pick<Logger, "info" | "debug"> | undefined;
  private readonly now: () => number;
  private readonly since: number;
  private active: boolean;

  private constructor(active: boolean, deps: StartupEfficiencyDeps) {
    this.setFlags = deps.setFlags ?? ((f) => v8.setFlagsFromString(f));
    this.log = deps.log;
    this.now = deps.now ?? (() => performance.now());
    this.since = this.now();
    this.active = active;
  }

  /** Enters efficiency mode unless `enabled` is false or the node options already name the mode. */
  static begin(enabled: boolean, deps: StartupEfficiencyDeps = {}): StartupEfficiency {
    const chosen = (deps.nodeOptions ?? process.execArgv).find((o) => OPERATOR_FLAG.test(o));
    const s = new StartupEfficiency(enabled && !chosen, deps);
    if (s.active) {
      s.setFlags("--efficiency-mode");
      s.log?.debug("V8 in efficiency mode until the first config");
    } else if (chosen) s.log?.debug(`V8's efficiency mode left as the node options set it (${chosen})`);
    return s;
  }

  /** Whether the mode is on (entered and not yet ended). */
  get on(): boolean {
    return this.active;
  }

  /**
   * Ends the mode once every store has had a config (at once if each has one already); returns this.
   * `log` (the proxy's logger, which did not exist when the mode began) reports the end.
   */
  endWhenConfigured(stores: readonly StateStore[], log?: Pick<Logger, "info" | "debug">): this {
    if (log) this.log = log;
    if (!this.active) return this;
    let waiting = stores.length;
    if (waiting === 0) this.end();
    for (const store of stores) {
      let seen = false;
      // A store calls a new subscriber at once when it already has a config, before subscribe returns.
      const sub = { off: () => {} };
      sub.off = store.subscribe(() => {
        if (seen) return;
        seen = true;
        sub.off();
        if (--waiting === 0) this.end();
      });
      if (seen) sub.off();
    }
    return this;
  }

  /** Back to V8's defaults; idempotent. */
  end(why = "the first config is applied"): void {
    if (!this.active) return;
    this.active = false;
    this.setFlags("--no-efficiency-mode");
    this.log?.info(`${why} after ${Math.round(this.now() - this.since)} ms: V8 back to its defaults (TurboFan, parallel collection)`);
  }
}

/** Efficiency mode until every store has had a config (its first whole config), then V8's defaults. */
export function efficientUntilConfigured(stores: readonly StateStore[], enabled: boolean, deps: StartupEfficiencyDeps = {}): StartupEfficiency {
  return StartupEfficiency.begin(enabled, deps).endWhenConfigured(stores, deps.log);
}
