import { expect, it } from "vitest";
import { cpuPer1000Requests, measureProcesses } from "./index.ts";

it("CPU per 1000 requests, and a process's CPU and memory read from /proc around real work", async () => {
  expect(cpuPer1000Requests(0.5, 2000)).toBe(0.25);
  expect(cpuPer1000Requests(1, 0)).toBe(0);
  const m = await measureProcesses([process.pid], async () => {
    const end = Date.now() + 300;
    let x = 0;
    while (Date.now() < end) x += Math.sqrt(x + 1);
    return x;
  });
  expect(m.cpuSeconds[0]).toBeGreaterThan(0.15);
  expect(m.rssMb[0]).toBeGreaterThan(10);
  expect(m.peakRssMb[0]).toBeGreaterThanOrEqual(m.rssMb[0]!);
});
