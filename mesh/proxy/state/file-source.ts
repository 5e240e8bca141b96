// Watches the LOCAL_CONFIG file and feeds the store. A file that fails to parse leaves the last good
// config in place; resources that fail on their own are logged and skipped.
import { watch, type FSWatcher } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename, dirname } from "node:path";
import { describeError } from "../../shared/index.ts";
import type { Logger } from "../../shared/index.ts";
import { parseLocalConfig, toResources } from "./local-config.ts";
import type { StateStore } from "./store.ts";
import type { ConfigSource } from "./config-source.ts";

export class LocalConfigSource implements ConfigSource {
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private loading: Promise<void> = Promise.resolve();

  private readonly path: string;
  private readonly store: StateStore;
  private readonly log: Logger;
  private readonly debounceMs: number;

  constructor(path: string, store: StateStore, log: Logger, debounceMs = 50) {
    this.path = path;
    this.store = store;
    this.log = log;
    this.debounceMs = debounceMs;
  }

  /** Loads once (throws if the file cannot be read or parsed at all), then watches. */
  async start(): Promise<void> {
    await this.load(true);
    // Watch the directory: editors and `mv` replace the file, which a file watch would lose.
    this.watcher = watch(dirname(this.path), (_event, file) => {
      if (file === null || file === basename(this.path)) this.schedule();
    });
    this.watcher.on("error", (err) => this.log.error({ err: describeError(err) }, "LOCAL_CONFIG watch failed"));
  }

  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.loading = this.loading.then(() => this.load(false));
    }, this.debounceMs);
  }

  /** Reloads now; resolves when the store has the file's content. */
  reload(): Promise<void> {
    this.loading = this.loading.then(() => this.load(false));
    return this.loading;
  }

  private async load(strict: boolean): Promise<void> {
    try {
      const text = await readFile(this.path, "utf8");
      const parsed = parseLocalConfig(text);
      for (const r of parsed.rejected) {
        this.log.warn({ resource: `${r.kind} ${r.name}`, reason: r.reason }, "LOCAL_CONFIG resource rejected");
      }
      const changed = this.store.replace(toResources(parsed));
      if (changed) {
        this.log.info(
          { workloads: parsed.workloads.length, services: parsed.services.length, policies: parsed.policies.length, rejected: parsed.rejected.length },
          "LOCAL_CONFIG applied",
        );
      }
    } catch (err) {
      if (strict) throw err;
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return; // mid-rename; the next event brings the new file
      this.log.error({ err: describeError(err), path: this.path }, "LOCAL_CONFIG not applied; keeping the last good config");
    }
  }

  async close(): Promise<void> {
    clearTimeout(this.timer);
    this.watcher?.close();
    await this.loading;
  }
}
