// Long-running processes inside network namespaces, tracked by PID (never by name), with their output
// in per-process log files. Stopping sends SIGTERM, waits, then SIGKILL. With restarts enabled the group
// is a kubelet for its processes: one that exits on its own is started again with exponential backoff.
import { spawn, type ChildProcess } from "node:child_process";
import { openSync, closeSync, readFileSync } from "node:fs";
import { basename } from "node:path";
import { ErrorCode, MeshError } from "../shared/index.ts";

export interface SpawnSpec {
  name: string;
  netns: string;
  cmd: string;
  args: string[];
  /** Variables added to this process's environment. */
  env?: Record<string, string>;
  logFile: string;
  /** Run as this uid and gid (no supplementary groups, no new privileges) instead of root. */
  runAs?: number;
}

/** The argv that runs `spec` in its namespace, as its user: `ip netns exec` enters, setpriv drops root. */
export function commandLine(spec: Pick<SpawnSpec, "netns" | "cmd" | "args" | "runAs">): string[] {
  const drop = spec.runAs === undefined ? [] : ["setpriv", `--reuid=${spec.runAs}`, `--regid=${spec.runAs}`, "--clear-groups", "--no-new-privs", "--"];
  return ["netns", "exec", spec.netns, ...drop, spec.cmd, ...spec.args];
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  at: string;
}

export interface ManagedProcess {
  name: string;
  netns: string;
  pid: number;
  logFile: string;
  exited: Promise<number | null>;
  /** Undefined for a process adopted from an earlier supervisor (not our child; watched through /proc). */
  child: ChildProcess | undefined;
  cmd: string[];
  recorded: Promise<void>;
  spec: SpawnSpec;
  /** Times this process was started again after exiting on its own. */
  restarts: number;
  lastExit: ExitInfo | undefined;
}

/** Exponential backoff between restarts, reset once a process has run for `resetAfterMs` (kubelet: 10 s .. 5 min). */
export interface RestartPolicy {
  initialMs: number;
  maxMs: number;
  resetAfterMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = { initialMs: 500, maxMs: 30_000, resetAfterMs: 60_000 };

export interface ProcessGroupOptions {
  /** Detached processes outlive this one (ambientctl local up returns while the cluster runs). */
  detached?: boolean;
  onStart?: (p: ManagedProcess) => Promise<void>;
  onStop?: (name: string) => Promise<void>;
  /** A process exited on its own; `restartInMs` is set when it will be started again. */
  onExit?: (p: ManagedProcess, exit: ExitInfo, restartInMs: number | undefined) => void;
}

export function describeExit(e: ExitInfo | undefined): string {
  if (!e) return "-";
  if (e.signal) return `signal ${e.signal}`;
  // An adopted process is not the supervisor's child: how it ended cannot be known.
  return e.code === null ? "unknown (adopted)" : `code ${e.code}`;
}

export class ProcessGroup {
  private readonly procs = new Map<string, ManagedProcess>();
  private readonly opts: ProcessGroupOptions;
  private restart: RestartPolicy | undefined;
  /** Names being stopped on purpose: their exit is not a crash. */
  private readonly stopping = new Set<string>();
  private readonly backoff = new Map<string, { nextMs: number; timer: NodeJS.Timeout | undefined }>();
  private closed = false;

  constructor(opts: ProcessGroupOptions = {}) {
    this.opts = opts;
  }

  /** From now on, processes that exit on their own are started again (after `up`: start-up failures stay loud). */
  enableRestarts(policy: RestartPolicy = DEFAULT_RESTART_POLICY): void {
    this.restart = policy;
  }

  /** Starts a process; with an onStart hook, await `recorded` before relying on it being on record. */
  start(opts: SpawnSpec, history: { restarts: number; lastExit: ExitInfo | undefined } = { restarts: 0, lastExit: undefined }): ManagedProcess {
    if (this.procs.has(opts.name)) throw new MeshError(ErrorCode.Exec, `process ${opts.name} is already running`);
    const fd = openSync(opts.logFile, "a");
    // `ip netns exec` enters the namespace and execs the command, so the PID is the command's own.
    const child = spawn("ip", commandLine(opts), {
      stdio: ["ignore", fd, fd],
      env: { ...process.env, ...opts.env },
      detached: this.opts.detached ?? false,
    });
    closeSync(fd);
    if (this.opts.detached) child.unref();
    if (child.pid === undefined) throw new MeshError(ErrorCode.Exec, `could not start ${opts.name} (${opts.cmd})`);
    const startedAt = Date.now();
    let exitInfo: ExitInfo = { code: null, signal: null, at: "" };
    const exited = new Promise<number | null>((resolve) => {
      child.once("exit", (code, signal) => {
        exitInfo = { code, signal, at: new Date().toISOString() };
        resolve(code ?? (signal ? -1 : null));
      });
      child.once("error", () => resolve(-1));
    });
    const p: ManagedProcess = {
      name: opts.name,
      netns: opts.netns,
      pid: child.pid,
      logFile: opts.logFile,
      exited,
      child,
      cmd: [opts.cmd, ...opts.args.slice(0, 1)],
      recorded: Promise.resolve(),
      spec: opts,
      restarts: history.restarts,
      lastExit: history.lastExit,
    };
    p.recorded = this.opts.onStart?.(p) ?? Promise.resolve();
    this.watch(p, startedAt, () => exitInfo);
    return p;
  }

  /**
   * Takes over a process a previous supervisor started (it is not our child, so its exit code is
   * unknown): watched through /proc, and restarted like our own once it is gone.
   */
  adopt(r: { spawn: SpawnSpec; pid: number; cmd: string[]; restarts?: number; lastExit?: ExitInfo }): ManagedProcess {
    if (this.procs.has(r.spawn.name)) throw new MeshError(ErrorCode.Exec, `process ${r.spawn.name} is already running`);
    let gone!: (v: number | null) => void;
    const exited = new Promise<number | null>((resolve) => (gone = resolve));
    const poll = setInterval(() => {
      if (isOurProcess(r.pid, r.cmd)) return;
      clearInterval(poll);
      gone(null);
    }, 250);
    const p: ManagedProcess = {
      name: r.spawn.name,
      netns: r.spawn.netns,
      pid: r.pid,
      logFile: r.spawn.logFile,
      exited,
      child: undefined,
      cmd: r.cmd,
      recorded: Promise.resolve(),
      spec: r.spawn,
      restarts: r.restarts ?? 0,
      lastExit: r.lastExit,
    };
    this.watch(p, 0, () => ({ code: null, signal: null, at: new Date().toISOString() }));
    return p;
  }

  private watch(p: ManagedProcess, startedAt: number, exitInfo: () => ExitInfo): void {
    this.procs.set(p.name, p);
    void p.exited.then(() => {
      if (this.procs.get(p.name) !== p) return;
      this.procs.delete(p.name);
      if (this.stopping.has(p.name)) return;
      p.lastExit = exitInfo();
      this.onCrash(p, Date.now() - startedAt);
    });
  }

  /** A process exited without being asked to: schedule its restart (kubelet's CrashLoopBackOff, scaled down). */
  private onCrash(p: ManagedProcess, ranMs: number): void {
    const policy = this.restart;
    if (!policy || this.closed) {
      this.opts.onExit?.(p, p.lastExit!, undefined);
      return;
    }
    const b = this.backoff.get(p.name) ?? { nextMs: policy.initialMs, timer: undefined };
    if (ranMs >= policy.resetAfterMs) b.nextMs = policy.initialMs;
    const delay = b.nextMs;
    b.nextMs = Math.min(b.nextMs * 2, policy.maxMs);
    this.opts.onExit?.(p, p.lastExit!, delay);
    b.timer = setTimeout(() => {
      b.timer = undefined;
      if (this.closed || this.stopping.has(p.name) || this.procs.has(p.name)) return;
      try {
        this.start(p.spec, { restarts: p.restarts + 1, lastExit: p.lastExit });
      } catch {
        // could not spawn (the namespace is gone): the next crash report will say so
      }
    }, delay);
    this.backoff.set(p.name, b);
  }

  get(name: string): ManagedProcess | undefined {
    return this.procs.get(name);
  }

  list(): ManagedProcess[] {
    return [...this.procs.values()];
  }

  async stop(name: string, timeoutMs = 8000): Promise<void> {
    const pending = this.backoff.get(name);
    if (pending?.timer) clearTimeout(pending.timer);
    this.backoff.delete(name);
    const p = this.procs.get(name);
    if (!p) return;
    this.stopping.add(name);
    try {
      await stopPid(p.pid, timeoutMs, p.exited);
    } finally {
      this.stopping.delete(name);
    }
    this.procs.delete(name);
    await this.opts.onStop?.(name);
  }

  /** Stops every process and every pending restart; the group starts nothing afterwards. */
  async stopAll(timeoutMs = 8000): Promise<void> {
    this.closed = true;
    for (const b of this.backoff.values()) if (b.timer) clearTimeout(b.timer);
    this.backoff.clear();
    await Promise.all([...this.procs.keys()].map((n) => this.stop(n, timeoutMs)));
  }
}

/**
 * Whether `pid` still runs. A zombie does not: a detached process whose parent exited waits for init to
 * reap it, and where init does not (a container's PID 1), kill(pid, 0) would report it alive forever.
 */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

/** Is `pid` still the process we started? Its command line must contain what we recorded. */
export function isOurProcess(pid: number, cmd: string[]): boolean {
  try {
    // Matched as text: interpreters prepend themselves (python3 gunicorn) and nginx rewrites its title.
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ");
    return cmd.every((c, i) => cmdline.includes(i === 0 ? basename(c) : c));
  } catch {
    return false;
  }
}

/** SIGTERM, wait up to timeoutMs, then SIGKILL. Works for PIDs from an earlier run too (no `exited`). */
export async function stopPid(pid: number, timeoutMs: number, exited?: Promise<unknown>): Promise<void> {
  if (!alive(pid)) return;
  try {
    process.kill(pid, "SIGTERM");
  } catch {
    return;
  }
  const deadline = Date.now() + timeoutMs;
  const gone =
    exited ??
    (async () => {
      while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    })();
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([gone, new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
  clearTimeout(timer); // or it keeps the caller (ambientctl down) alive until the timeout
  if (alive(pid)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // exited meanwhile
    }
    if (exited) await exited;
  }
}
