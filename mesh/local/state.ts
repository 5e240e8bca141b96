// The single-machine cluster's record of everything it created, written before each thing is created,
// so `ambientctl local down` can undo a cluster made by another process, after a crash, or an
// interrupted `up`, and touch nothing else.
import { mkdir, readFile, rename, rm, rmdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { ErrorCode, MeshError } from "../shared/errors.ts";
import type { ClusterSpec } from "./cluster.ts";

export interface RecordedProcess {
  name: string;
  pid: number;
  netns: string;
  logFile: string;
  /** argv[0..1] as started: checked against /proc before signalling, so a reused PID is left alone. */
  cmd: string[];
}

export interface ClusterStateFile {
  version: 1;
  status: "starting" | "up" | "failed" | "stopping";
  startedAt: string;
  spec: ClusterSpec;
  /** Namespaces, in creation order (recorded just before `ip netns add`). */
  namespaces: string[];
  processes: RecordedProcess[];
  /** Namespace label overrides applied with `ambientctl local apply`. */
  namespaceLabels: Record<string, Record<string, string>>;
}

/** Namespace prefix of the CLI's cluster (AMBIENT_LAB_PREFIX lets tests run beside a user's cluster). */
export function clusterPrefix(): string {
  return process.env.AMBIENT_LAB_PREFIX ?? "al-local";
}

export function defaultStatePath(): string {
  return join(process.env.AMBIENT_LAB_STATE_DIR ?? "/run/ambient-lab", "cluster.json");
}

export class StateRecorder {
  readonly path: string;
  state: ClusterStateFile;
  private writing: Promise<void> = Promise.resolve();

  constructor(path: string, state: ClusterStateFile) {
    this.path = path;
    this.state = state;
  }

  static fresh(path: string, spec: ClusterSpec): StateRecorder {
    return new StateRecorder(path, { version: 1, status: "starting", startedAt: new Date().toISOString(), spec, namespaces: [], processes: [], namespaceLabels: {} });
  }

  static async load(path: string): Promise<StateRecorder | undefined> {
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw new MeshError(ErrorCode.Config, `cannot read ${path}`, { cause: err });
    }
    let state: ClusterStateFile;
    try {
      state = JSON.parse(text) as ClusterStateFile;
    } catch (err) {
      throw new MeshError(ErrorCode.Config, `${path} is not valid JSON; if no cluster is running, remove it`, { cause: err });
    }
    if (state.version !== 1 || !Array.isArray(state.namespaces) || !Array.isArray(state.processes)) {
      throw new MeshError(ErrorCode.Config, `${path} is not an ambient-lab state file (version ${String(state.version)})`);
    }
    state.namespaceLabels ??= {};
    return new StateRecorder(path, state);
  }

  /** Writes atomically; writes are serialized so the file always holds the latest complete state. */
  save(): Promise<void> {
    const text = JSON.stringify(this.state, null, 2) + "\n";
    this.writing = this.writing.then(async () => {
      await mkdir(dirname(this.path), { recursive: true });
      await writeFile(`${this.path}.tmp`, text, { mode: 0o600 });
      await rename(`${this.path}.tmp`, this.path);
    });
    return this.writing;
  }

  async addNamespace(ns: string): Promise<void> {
    if (!this.state.namespaces.includes(ns)) this.state.namespaces.push(ns);
    await this.save();
  }

  async addProcess(p: RecordedProcess): Promise<void> {
    this.state.processes = [...this.state.processes.filter((x) => x.name !== p.name), p];
    await this.save();
  }

  async removeProcess(name: string): Promise<void> {
    this.state.processes = this.state.processes.filter((x) => x.name !== name);
    await this.save();
  }

  async setStatus(status: ClusterStateFile["status"]): Promise<void> {
    this.state.status = status;
    await this.save();
  }

  async remove(): Promise<void> {
    await this.writing;
    await rm(this.path, { force: true });
    // The state directory was ours too; leave it if anything else lives there.
    await rmdir(dirname(this.path)).catch(() => undefined);
  }
}
