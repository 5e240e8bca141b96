// Builds and removes a planned topology with iproute2. Everything created is recorded as it is created,
// so a failure halfway (or an interrupted run) can always be undone by destroy().
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ErrorCode, MeshError } from "../shared/index.ts";
import type { RunResult } from "../shared/index.ts";
import type { TopologyPlan } from "./plan.ts";

export type Runner = (cmd: string, args: string[], input?: string, opts?: { timeoutMs?: number }) => Promise<RunResult>;

/** Where `ip netns exec` finds per-namespace files (it bind-mounts /etc/netns/<name>/hosts over /etc/hosts). */
export const NETNS_ETC = "/etc/netns";

async function must(run: Runner, cmd: string, args: string[], input?: string): Promise<RunResult> {
  let r: RunResult;
  try {
    r = await run(cmd, args, input);
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === "ENOENT";
    throw new MeshError(ErrorCode.Exec, missing ? `${cmd} is not installed: apt-get install iproute2` : `could not run ${cmd}`, { cause: err });
  }
  if (r.code !== 0) {
    const hint = /Operation not permitted|Permission denied/.test(r.stderr) ? " (this needs root)" : "";
    throw new MeshError(ErrorCode.Exec, `${cmd} ${args.join(" ")} failed${hint}: ${r.stderr.trim() || `exit ${r.code}`}${input ? `\n${input}` : ""}`);
  }
  return r;
}

export class Topology {
  readonly plan: TopologyPlan;
  private readonly run: Runner;
  private readonly created: string[] = [];

  constructor(plan: TopologyPlan, run: Runner) {
    this.plan = plan;
    this.run = run;
  }

  /** Namespaces this instance created (for state files and cleanup). */
  get namespaces(): readonly string[] {
    return this.created;
  }

  /** `beforeNamespace` runs before each namespace is created, so a record of it exists even if we die right after. */
  async create(hosts?: Map<string, string>, beforeNamespace?: (ns: string) => Promise<void>): Promise<void> {
    for (const ns of this.plan.namespaces) {
      await beforeNamespace?.(ns);
      await must(this.run, "ip", ["netns", "add", ns]);
      this.created.push(ns);
    }
    for (const b of this.plan.batches) await must(this.run, "ip", ["-n", b.netns, "-batch", "-"], b.script);
    for (const [ns, key, value] of this.plan.sysctls) await must(this.run, "ip", ["netns", "exec", ns, "sysctl", "-qw", `${key}=${value}`]);
    if (hosts) {
      for (const [ns, text] of hosts) {
        await mkdir(join(NETNS_ETC, ns), { recursive: true });
        await writeFile(join(NETNS_ETC, ns, "hosts"), text);
      }
    }
  }

  /** Removes what create() made: namespaces (with their links and rules) and per-namespace files. */
  async destroy(): Promise<void> {
    await destroyNamespaces([...this.created].reverse(), this.run);
    this.created.length = 0;
  }
}

/** Deletes the named namespaces and their /etc/netns files; a name already gone is not an error. */
export async function destroyNamespaces(names: readonly string[], run: Runner): Promise<string[]> {
  const problems: string[] = [];
  for (const ns of names) {
    if (!ns.startsWith("al-")) {
      problems.push(`refusing to delete ${ns}: not an ambient-lab namespace`);
      continue;
    }
    const r = await run("ip", ["netns", "del", ns]);
    if (r.code !== 0 && !/No such file|not found|Cannot remove/.test(r.stderr)) problems.push(`${ns}: ${r.stderr.trim()}`);
    await rm(join(NETNS_ETC, ns), { recursive: true, force: true });
  }
  return problems;
}
