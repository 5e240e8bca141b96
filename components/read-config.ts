// Reads the stack's configuration through pulumi.Config and validates it (components/config.ts).
import * as pulumi from "@pulumi/pulumi";
import { parseStackConfig, StackConfigError, type StackConfig } from "./config.ts";

const KEYS = ["cluster", "mesh", "versions", "monitoring", "benchmark"] as const;

export function readStackConfig(): StackConfig {
  const cfg = new pulumi.Config("ambient-lab");
  const raw: Record<string, unknown> = {};
  for (const k of KEYS) {
    // `mesh` may be a plain word (`pulumi config set ambient-lab:mesh istio`), which is not JSON.
    const v = k === "monitoring" ? cfg.getBoolean(k) : k === "mesh" ? jsonOrWord(cfg.get(k)) : cfg.getObject<unknown>(k);
    if (v !== undefined) raw[k] = v;
  }
  try {
    return parseStackConfig(raw);
  } catch (err) {
    // A RunError prints the message without a stack trace: the message says what to fix.
    if (err instanceof StackConfigError) throw new pulumi.RunError(err.message);
    throw err;
  }
}

function jsonOrWord(s: string | undefined): unknown {
  if (s === undefined) return undefined;
  try {
    return JSON.parse(s);
  } catch {
    return s;
  }
}
