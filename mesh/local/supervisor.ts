// The single-machine cluster's kubelet. `ambientctl local up` (and `npm run demo`) start it detached;
// it builds the cluster with every mesh and application process as its own child, then starts any of
// them again when it exits on its own, with exponential backoff, as the kubelet restarts DaemonSet and
// Deployment pods. Restarts and last exits go to the state file, which `status` reads. On SIGTERM it
// stops restarting and stops its processes. A new supervisor for a cluster that is up (its supervisor
// was killed) adopts the processes still running and restarts the missing ones: a repair, not a rebuild,
// so the CA, tokens and applied objects (all files in the cluster's work directory) are kept.
import { spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { mkdir, open } from "node:fs/promises";
import { join } from "node:path";
import { describeError, ErrorCode, MeshError } from "../shared/index.ts";
import { LocalCluster, ROOT } from "./cluster.ts";
import { describeExit, isOurProcess, stopPid } from "./processes.ts";
import { StateRecorder, type ClusterStateFile } from "./state.ts";
import { parseProcessName } from "./process-key.ts";
import { withApplied } from "./applied.ts";

export const CLI_MAIN = join(ROOT, "mesh/local/cli.ts");
/** Lines of the supervisor's log that `up` shows as progress. */
const PROGRESS = "progress: ";
const FAILED = "failed: ";

export function supervisorLog(spec: ClusterStateFile["spec"]): string {
  return join(spec.workDir, "logs", "supervisor.log");
}

export function supervisorRunning(state: ClusterStateFile): boolean {
  return state.supervisor !== undefined && isOurProcess(state.supervisor.pid, state.supervisor.cmd);
}

/** The daemon's body (`ambientctl local supervise`): build or repair the cluster, then keep it running. */
export async function runSupervisor(statePath: string): Promise<void> {
  const recorder = await StateRecorder.load(statePath);
  if (!recorder) throw new MeshError(ErrorCode.Config, `no cluster is recorded at ${statePath}: the supervisor is started by \`ambientctl local up\``);
  const say = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);
  const cluster = new LocalCluster(recorder.state.spec, undefined, {
    recorder,
    onExit: (p, exit, restartInMs) =>
      say(
        `${p.name} (pid ${p.pid}) exited: ${describeExit(exit)}${restartInMs === undefined ? "" : `; restarting in ${restartInMs} ms (restart ${p.restarts + 1})`}`,
      ),
  });
  await recorder.setSupervisor({ pid: process.pid, cmd: [process.execPath, CLI_MAIN], logFile: supervisorLog(recorder.state.spec) });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    say(`${signal}: stopping every process of the cluster`);
    void cluster.processes
      .stopAll()
      .then(() => recorder.setSupervisor(undefined))
      .finally(() => process.exit(0));
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  // `ambientctl local apply` records applied workloads in the state file and sends SIGHUP: the pods
  // follow, one reconcile at a time (the first once the cluster is up), each ending in a line the CLI
  // waits for. Installed first: SIGHUP's default would end the supervisor.
  let markReady: () => void = () => undefined;
  let reconciling = new Promise<void>((r) => (markReady = r));
  process.on("SIGHUP", () => {
    reconciling = reconciling.then(async () => {
      try {
        const latest = await StateRecorder.load(statePath);
        const next = withApplied(latest?.state.spec ?? recorder.state.spec, latest?.state.applied ?? []);
        await cluster.reconcile(next, (line) => say(`${PROGRESS}${line}`));
        await recorder.setSpec(next);
        say(`${RECONCILED}ok`);
      } catch (err) {
        say(`${RECONCILED}failed: ${describeError(err)}`);
      }
    });
  });

  // As the kubelet refreshes projected tokens: copies follow the control plane's rotation.
  setInterval(() => {
    void cluster.refreshProjectedTokens().then(
      (n) => n > 0 && say(`refreshed ${n} projected token${n === 1 ? "" : "s"}`),
      (err: unknown) => say(`refreshing projected tokens failed: ${describeError(err)}`),
    );
  }, 1000);

  if (recorder.state.status === "up") {
    let restarted = 0;
    const nodes: string[] = [];
    for (const r of [...recorder.state.processes]) {
      if (!r.spawn) continue;
      if (isOurProcess(r.pid, r.cmd)) cluster.processes.adopt({ ...r, spawn: r.spawn });
      else {
        restarted++;
        say(`${r.name} is not running; starting it again`);
        await cluster.processes.start(r.spawn, {
          restarts: (r.restarts ?? 0) + 1,
          lastExit: r.lastExit ?? { code: null, signal: null, at: new Date().toISOString() },
        }).recorded;
        {
          const k = parseProcessName(r.name);
          if (k?.kind === "ztunnel") nodes.push(k.node);
        }
      }
    }
    // `up` returns when the mesh works again: wait for the ztunnels it restarted to be ready.
    await Promise.all(nodes.map((n) => cluster.waitReady(n).catch((err: unknown) => say(`ztunnel on ${n} not ready yet: ${describeError(err)}`))));
    say(`${PROGRESS}repaired: ${restarted} process${restarted === 1 ? "" : "es"} started again, the others adopted`);
  } else {
    try {
      await cluster.up((step) => say(`${PROGRESS}${step}`));
    } catch (err) {
      say(`${FAILED}${describeError(err)}`);
      await recorder.setStatus("failed");
      await cluster.processes.stopAll();
      await recorder.setSupervisor(undefined);
      process.exit(1);
    }
  }
  cluster.processes.enableRestarts();
  say(`${PROGRESS}supervising ${cluster.processes.list().length} processes`);
  markReady();
}

/** The line that ends a reconcile in the supervisor's log: `ok` or `failed: <why>`. */
export const RECONCILED = "reconciled: ";

/**
 * Asks the cluster's supervisor to make the pods follow the applied workloads in the state file, shows
 * its progress through `say`, and resolves once it has (or throws what failed).
 */
export async function requestReconcile(state: ClusterStateFile, say: (line: string) => void, timeoutMs = 90_000): Promise<void> {
  const sup = state.supervisor;
  if (!sup || !isOurProcess(sup.pid, sup.cmd))
    throw new MeshError(ErrorCode.Exec, "the cluster's supervisor is not running, so nothing would start the pods: `ambientctl local up` repairs the cluster");
  const log = supervisorLog(state.spec);
  await followLog(
    log,
    () => process.kill(sup.pid, "SIGHUP"),
    timeoutMs,
    `the pods did not follow within ${timeoutMs / 1000} s; see ${log}`,
    (line) => {
      const r = line.indexOf(RECONCILED);
      if (r >= 0) {
        const result = line.slice(r + RECONCILED.length);
        if (result === "ok") return true;
        throw new MeshError(ErrorCode.Exec, `${result}\n(the supervisor's log: ${log})`);
      }
      const i = line.indexOf(PROGRESS);
      if (i >= 0) say(line.slice(i + PROGRESS.length));
      return false;
    },
  );
}

/**
 * Starts a supervisor for the cluster recorded at `statePath` (fresh, or up and needing repair), shows
 * its progress through `say`, and resolves once the cluster is up.
 */
export async function startSupervisor(recorder: StateRecorder, say: (line: string) => void, timeoutMs = 120_000): Promise<void> {
  const log = supervisorLog(recorder.state.spec);
  await mkdir(join(recorder.state.spec.workDir, "logs"), { recursive: true });
  await recorder.save();
  const fd = openSync(log, "a");
  const child = spawn(process.execPath, [CLI_MAIN, "local", "supervise"], {
    detached: true,
    stdio: ["ignore", fd, fd],
    env: { ...process.env, AMBIENT_LAB_STATE: recorder.path },
  });
  closeSync(fd);
  child.unref();
  let exited: number | null | undefined;
  child.once("exit", (code) => (exited = code ?? -1));
  await followLog(
    log,
    () => undefined,
    timeoutMs,
    `the cluster was not up after ${timeoutMs / 1000} s; see ${log}`,
    (line) => {
      const i = line.indexOf(PROGRESS);
      if (i >= 0) say(line.slice(i + PROGRESS.length));
      const f = line.indexOf(FAILED);
      if (f >= 0)
        throw new MeshError(
          ErrorCode.Exec,
          `${line.slice(f + FAILED.length)}\n(the partial cluster is recorded; \`ambientctl local down\` removes it; log: ${log})`,
        );
      return line.includes(`${PROGRESS}supervising`);
    },
    () => {
      if (exited !== undefined) throw new MeshError(ErrorCode.Exec, `the supervisor exited (code ${exited}) before the cluster was up; see ${log}`);
    },
  );
}

/**
 * Reads the lines `log` gains after `start()` runs, giving each to `onLine` until it returns true (done)
 * or throws; `check` runs between reads (a process that died); throws `timeout` after `timeoutMs`.
 */
async function followLog(
  log: string,
  start: () => void,
  timeoutMs: number,
  timeout: string,
  onLine: (line: string) => boolean,
  check: () => void = () => undefined,
): Promise<void> {
  const handle = await open(log, "r");
  let offset = (await handle.stat()).size;
  let partial = "";
  start();
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      const { bytesRead, buffer } = await handle.read({ buffer: Buffer.alloc(64 * 1024), position: offset });
      offset += bytesRead;
      const lines = (partial + buffer.subarray(0, bytesRead).toString("utf8")).split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) if (onLine(line)) return;
      check();
      if (Date.now() > deadline) throw new MeshError(ErrorCode.Exec, timeout);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await handle.close();
  }
}

/** Stops the supervisor (it stops its processes first), so that nothing restarts what `down` removes. */
export async function stopSupervisor(state: ClusterStateFile, timeoutMs = 20_000): Promise<void> {
  const s = state.supervisor;
  if (s && isOurProcess(s.pid, s.cmd)) await stopPid(s.pid, timeoutMs);
}
