// The single-machine cluster's record of everything it created, written before each thing is created,
// so `ambientctl local down` can undo a cluster made by another process, after a crash, or an
// interrupted `up`, and touch nothing else.
import { mkdir, readFile, rename, rm, rmdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { ErrorCode, MeshError } from "../shared/index.ts";
import type { ClusterSpec } from "./cluster.ts";
import type { AppliedWorkload } from "./applied.ts";
import type { ExitInfo, SpawnSpec } from "./processes.ts";

export interface RecordedProcess {
  name: string;
  pid: number;
  netns: string;
  logFile: string;
  /** argv[0..1] as started: checked against /proc before signalling, so a reused PID is left alone. */
  cmd: string[];
  /** How to start it again (the supervisor restarts processes that exit on their own). */
  spawn?: SpawnSpec;
  restarts?: number;
  lastExit?: ExitInfo;
}

/** The process that runs the cluster's processes as its children and restarts them (our kubelet). */
export interface RecordedSupervisor {
  pid: number;
  cmd: string[];
  logFile: string;
}

export interface ClusterStateFile {
  version: 1;
  status: "starting" | "up" | "failed" | "stopping";
  startedAt: string;
  spec: ClusterSpec;
  /** Namespaces, in creation order (recorded just before `ip netns add`). */
  namespaces: string[];
  processes: RecordedProcess[];
  supervisor?: RecordedSupervisor;
  /** Namespace label overrides applied with `ambientctl local apply`. */
  namespaceLabels: Record<string, Record<string, string>>;
  /** Service label overrides applied with `ambientctl local apply`, by "namespace/name". */
  serviceLabels?: Record<string, Record<string, string>>;
  /** Workloads (Pods, Deployments, waypoint Gateways) applied with `ambientctl local apply`, in order. */
  applied?: AppliedWorkload[];
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
    return new StateRecorder(path, {
      version: 1,
      status: "starting",
      startedAt: new Date().toISOString(),
      spec,
      namespaces: [],
      processes: [],
      namespaceLabels: {},
    });
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

  /** Writes this whole state atomically (a fresh cluster); writes are serialized. */
  save(): Promise<void> {
    const text = JSON.stringify(this.state, null, 2) + "\n";
    this.writing = this.writing.then(() => this.write(text));
    return this.writing;
  }

  private async write(text: string): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    await writeFile(`${this.path}.tmp.${process.pid}`, text, { mode: 0o600 });
    await rename(`${this.path}.tmp.${process.pid}`, this.path);
  }

  /**
   * Applies one change to the state on disk, not to this process's copy: the supervisor and the CLI
   * (apply, status) both write the file, and neither may undo the other's changes with a stale copy.
   */
  update(change: (state: ClusterStateFile) => void): Promise<void> {
    this.writing = this.writing.then(async () => {
      const onDisk = await StateRecorder.load(this.path).catch(() => undefined);
      if (!onDisk) {
        // Removed (the cluster is gone) or never saved: keep the change in memory, do not recreate the file.
        change(this.state);
        return;
      }
      change(onDisk.state);
      this.state = onDisk.state;
      await this.write(JSON.stringify(onDisk.state, null, 2) + "\n");
    });
    return this.writing;
  }

  addNamespace(ns: string): Promise<void> {
    return this.update((s) => {
      if (!s.namespaces.includes(ns)) s.namespaces.push(ns);
    });
  }

  addProcess(p: RecordedProcess): Promise<void> {
    return this.update((s) => {
      s.processes = [...s.processes.filter((x) => x.name !== p.name), p];
    });
  }

  /** A process exited on its own: its last exit, kept on its record until it runs again. */
  processExited(name: string, exit: ExitInfo): Promise<void> {
    return this.update((s) => {
      const p = s.processes.find((x) => x.name === name);
      if (p) p.lastExit = exit;
    });
  }

  setSupervisor(sup: RecordedSupervisor | undefined): Promise<void> {
    return this.update((s) => {
      if (sup) s.supervisor = sup;
      else delete s.supervisor;
    });
  }

  /** A Service's labels (null: back to those it was created with). */
  setServiceLabels(key: string, labels: Record<string, string> | null): Promise<void> {
    return this.update((s) => {
      const all = { ...s.serviceLabels };
      if (labels) all[key] = labels;
      else delete all[key];
      s.serviceLabels = all;
    });
  }

  setNamespaceLabels(namespace: string, labels: Record<string, string>): Promise<void> {
    return this.update((s) => {
      s.namespaceLabels[namespace] = labels;
    });
  }

  /** Records an applied workload (or, with null, its deletion); the supervisor makes the pods follow. */
  setApplied(key: string, workload: AppliedWorkload | null): Promise<void> {
    return this.update((s) => {
      const rest = (s.applied ?? []).filter((a) => a.key !== key);
      s.applied = workload ? [...rest, workload] : rest;
    });
  }

  /** The cluster as it now runs (applied workloads included). */
  setSpec(spec: ClusterSpec): Promise<void> {
    return this.update((s) => {
      s.spec = spec;
    });
  }

  removeNamespace(ns: string): Promise<void> {
    return this.update((s) => {
      s.namespaces = s.namespaces.filter((x) => x !== ns);
    });
  }

  removeProcess(name: string): Promise<void> {
    return this.update((s) => {
      s.processes = s.processes.filter((x) => x.name !== name);
    });
  }

  setStatus(status: ClusterStateFile["status"]): Promise<void> {
    return this.update((s) => {
      s.status = status;
    });
  }

  async remove(): Promise<void> {
    await this.writing;
    await rm(this.path, { force: true });
    // The state directory was ours too; leave it if anything else lives there.
    await rmdir(dirname(this.path)).catch(() => undefined);
  }
}
