// The open-loop load generator (loadgen.ts) run inside a pod, and the latency summary it returns.
import { fileURLToPath } from "node:url";

const LOADGEN = fileURLToPath(new URL("./loadgen.ts", import.meta.url));

export interface LoadSpec {
  rate: number;
  connections: number;
  durationSeconds: number;
  warmupSeconds: number;
  /** Run the generator on these CPUs only (taskset's list, e.g. "1"), apart from what it measures. */
  cpus?: string;
  /** HTTP/1.1 GETs (default), HTTP/2 GETs with prior knowledge, or unary gRPC Echo calls. */
  protocol?: "http1" | "h2c" | "grpc";
}

export interface LoadResult {
  requests: number;
  errors: number;
  achievedRate: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
}

/** Runs a command in a pod: what a local cluster (or anything else with pods) offers. */
export interface PodExec {
  exec(pod: string, cmd: string, args: string[], opts?: { timeoutMs?: number }): Promise<{ code: number; stdout: string; stderr: string }>;
}

/** Runs the load from `pod` against `url` with this Node (the pods share the machine's filesystem). */
export async function runLoad(pods: PodExec, pod: string, url: string, s: LoadSpec): Promise<LoadResult & { firstError?: string }> {
  const args = [
    LOADGEN,
    "--url",
    url,
    "--rate",
    String(s.rate),
    "--connections",
    String(s.connections),
    "--duration",
    String(s.durationSeconds),
    "--warmup",
    String(s.warmupSeconds),
    ...(s.protocol ? ["--protocol", s.protocol] : []),
  ];
  const timeoutMs = (s.durationSeconds + s.warmupSeconds + 60) * 1000;
  const r = s.cpus
    ? await pods.exec(pod, "taskset", ["-c", s.cpus, process.execPath, ...args], { timeoutMs })
    : await pods.exec(pod, process.execPath, args, { timeoutMs });
  if (r.code !== 0) throw new Error(`load generator failed in ${pod}: ${r.stderr.trim()}`);
  return JSON.parse(r.stdout.trim().split("\n").at(-1)!) as LoadResult & { firstError?: string };
}
