// Long-running processes inside network namespaces, tracked by PID (never by name), with their output
// in per-process log files. Stopping sends SIGTERM, waits, then SIGKILL.
import { spawn, type ChildProcess } from "node:child_process";
import { openSync, closeSync, readFileSync } from "node:fs";
import { basename } from "node:path";
import { ErrorCode, MeshError } from "../shared/errors.ts";

export interface ManagedProcess {
  name: string;
  netns: string;
  pid: number;
  logFile: string;
  exited: Promise<number | null>;
  child: ChildProcess;
  cmd: string[];
  recorded: Promise<void>;
}

export interface ProcessGroupOptions {
  /** Detached processes outlive this one (ambientctl local up returns while the cluster runs). */
  detached?: boolean;
  onStart?: (p: ManagedProcess) => Promise<void>;
  onStop?: (name: string) => Promise<void>;
}

export class ProcessGroup {
  private readonly procs = new Map<string, ManagedProcess>();
  private readonly opts: ProcessGroupOptions;

  constructor(opts: ProcessGroupOptions = {}) {
    this.opts = opts;
  }

  /** Starts a process; with an onStart hook, await `recorded` before relying on it being on record. */
  start(opts: { name: string; netns: string; cmd: string; args: string[]; env?: Record<string, string>; logFile: string }): ManagedProcess {
    if (this.procs.has(opts.name)) throw new MeshError(ErrorCode.Exec, `process ${opts.name} is already running`);
    const fd = openSync(opts.logFile, "a");
    // `ip netns exec` enters the namespace and execs the command, so the PID is the command's own.
    const child = spawn("ip", ["netns", "exec", opts.netns, opts.cmd, ...opts.args], {
      stdio: ["ignore", fd, fd],
      env: { ...process.env, ...opts.env },
      detached: this.opts.detached ?? false,
    });
    closeSync(fd);
    if (this.opts.detached) child.unref();
    if (child.pid === undefined) throw new MeshError(ErrorCode.Exec, `could not start ${opts.name} (${opts.cmd})`);
    const exited = new Promise<number | null>((resolve) => {
      child.once("exit", (code, signal) => resolve(code ?? (signal ? -1 : null)));
      child.once("error", () => resolve(-1));
    });
    const p: ManagedProcess = { name: opts.name, netns: opts.netns, pid: child.pid, logFile: opts.logFile, exited, child, cmd: [opts.cmd, ...opts.args.slice(0, 1)], recorded: Promise.resolve() };
    p.recorded = this.opts.onStart?.(p) ?? Promise.resolve();
    this.procs.set(opts.name, p);
    void exited.then(() => {
      if (this.procs.get(opts.name) === p) this.procs.delete(opts.name);
    });
    return p;
  }

  get(name: string): ManagedProcess | undefined {
    return this.procs.get(name);
  }

  list(): ManagedProcess[] {
    return [...this.procs.values()];
  }

  async stop(name: string, timeoutMs = 8000): Promise<void> {
    const p = this.procs.get(name);
    if (!p) return;
    await stopPid(p.pid, timeoutMs, p.exited);
    this.procs.delete(name);
    await this.opts.onStop?.(name);
  }

  async stopAll(timeoutMs = 8000): Promise<void> {
    await Promise.all([...this.procs.keys()].map((n) => this.stop(n, timeoutMs)));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
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
  const gone = exited ?? (async () => {
    while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  })();
  await Promise.race([gone, new Promise((r) => setTimeout(r, timeoutMs))]);
  if (alive(pid)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // exited meanwhile
    }
    if (exited) await exited;
  }
}
