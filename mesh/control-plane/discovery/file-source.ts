// File discovery: a directory of Kubernetes YAML (*.yaml, *.yml), watched. Every change rereads the
// directory (it is small), so renames, deletions and partial writes all converge; a bad document is
// logged with its file and reason and skipped, the rest applies. Changes are picked up within a second.
import { watch, type FSWatcher } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { describeError } from "../../shared/index.ts";
import type { Logger } from "../../shared/index.ts";
import { KINDS, type AnyObject, type Kind } from "../model/kube.ts";
import { parseManifests, type ManifestError } from "../model/manifests.ts";
import type { ObjectStore } from "../store/object-store.ts";

export class FileSource {
  private readonly dir: string;
  private readonly store: ObjectStore;
  private readonly log: Logger;
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private loading: Promise<void> = Promise.resolve();
  private lastErrors = "";
  /** Errors of the last read, for /debug and `ambientctl local apply`. */
  errors: ManifestError[] = [];

  constructor(dir: string, store: ObjectStore, log: Logger) {
    this.dir = dir;
    this.store = store;
    this.log = log;
  }

  async start(): Promise<void> {
    await this.load();
    this.watcher = watch(this.dir, () => this.schedule());
    this.watcher.on("error", (err) => this.log.error({ err: describeError(err), dir: this.dir }, "watching the config directory failed"));
  }

  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.reload(), 50);
  }

  reload(): Promise<void> {
    this.loading = this.loading.then(() => this.load());
    return this.loading;
  }

  private async load(): Promise<void> {
    const byKind = Object.fromEntries(Object.keys(KINDS).map((k) => [k, [] as AnyObject[]])) as Record<Kind, AnyObject[]>;
    const errors: ManifestError[] = [];
    const seen = new Map<string, string>();
    let files: string[];
    try {
      files = (await readdir(this.dir)).filter((f) => /\.ya?ml$/.test(f) && !f.startsWith(".")).sort();
    } catch (err) {
      this.log.error({ err: describeError(err), dir: this.dir }, "cannot read the config directory; keeping the last config");
      return;
    }
    for (const f of files) {
      let text: string;
      try {
        text = await readFile(join(this.dir, f), "utf8");
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") continue; // removed meanwhile
        throw err;
      }
      const parsed = parseManifests(text, f);
      errors.push(...parsed.errors);
      for (const o of parsed.objects) {
        const id = `${o.kind} ${o.object.metadata?.namespace ? `${o.object.metadata.namespace}/` : ""}${o.object.metadata?.name}`;
        const other = seen.get(id);
        if (other) {
          errors.push({ source: f, reason: `${id} is also defined in ${other}; the first definition wins` });
          continue;
        }
        seen.set(id, f);
        byKind[o.kind].push(o.object);
      }
    }
    this.errors = errors;
    const text = JSON.stringify(errors);
    if (text !== this.lastErrors) {
      for (const e of errors) this.log.warn({ resource: e.source, reason: e.reason }, "config object rejected");
      this.lastErrors = text;
    }
    this.store.replace(byKind as never);
  }

  async close(): Promise<void> {
    clearTimeout(this.timer);
    this.watcher?.close();
    await this.loading;
  }
}
