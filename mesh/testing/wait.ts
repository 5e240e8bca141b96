// Polling helpers for tests that wait on real sockets and processes.
import { readdirSync } from "node:fs";

/** Polls `cond` every 20 ms until it holds or `ms` passes; returns whether it held. */
export async function waitFor(cond: () => boolean | Promise<boolean>, ms = 3000, everyMs = 20): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    if (await cond()) return true;
    if (Date.now() >= end) return false;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Open file descriptors of a process (this one by default), from /proc. */
export function fdCount(pid: number | "self" = "self"): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
