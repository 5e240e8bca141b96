// Benchmarks start processes of their own (a control plane, proxy fleets, per-size runs): an interrupt
// must not leave them running, nor their files behind.
import type { ChildProcess } from "node:child_process";
import { rmSync } from "node:fs";

/**
 * Until the returned function is called, an interrupt (Ctrl-C, SIGTERM) ends the given processes and
 * removes `dir` before exiting: the control plane and the proxies are processes of their own and would
 * otherwise outlive the benchmark.
 */
export function cleanupOnInterrupt(procs: () => ChildProcess[], dir: string): () => void {
  const onSignal = (signal: NodeJS.Signals) => {
    for (const p of procs()) p.kill("SIGTERM");
    rmSync(dir, { recursive: true, force: true });
    process.exit(signal === "SIGINT" ? 130 : 143);
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  return () => {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  };
}
