// measure: how the demo, the benchmarks and ambientctl measure the mesh: load (an open-loop generator
// with a latency summary) and what the proxies cost under it (CPU per 1000 requests, memory).
export { runLoad, type LoadResult, type LoadSpec, type PodExec } from "./load.ts";
export { cpuPer1000Requests, measureProcesses } from "./usage.ts";
export { cpuSeconds, memoryMb, processTree, pssMb } from "./proc-stats.ts";
