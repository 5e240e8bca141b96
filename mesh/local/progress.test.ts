// Progress lines: plain and timed off a terminal; a spinner per step on one, each ending as a line with
// its duration; the estimate of what is left.
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { createProgress, estimateLeftMs, plainLine } from "./progress.ts";

function capture(isTTY: boolean): { stream: NodeJS.WriteStream; text: () => string } {
  const s = new PassThrough() as unknown as NodeJS.WriteStream & PassThrough;
  let out = "";
  s.on("data", (c: Buffer) => (out += c.toString()));
  Object.assign(s, { isTTY, columns: 120, cursorTo: () => true, clearLine: () => true, moveCursor: () => true });
  return { stream: s, text: () => out };
}

describe("progress", () => {
  it("off a terminal: one line per step with the time since the start", () => {
    let t = 0;
    const c = capture(false);
    const p = createProgress({ stream: c.stream, now: () => t });
    p.step("creating 13 network namespaces");
    t = 2500;
    p.step("starting the control plane");
    t = 12_345;
    p.done("cluster up");
    expect(c.text()).toBe(
      `${plainLine(0, "creating 13 network namespaces")}\n${plainLine(2500, "starting the control plane")}\n${plainLine(12_345, "cluster up")}\n`,
    );
    expect(plainLine(12_345, "x")).toBe("[  12.3s] x");
  });

  it("estimates what is left from the average step, once one has finished", () => {
    expect(estimateLeftMs(10_000, 0, 6)).toBeUndefined();
    expect(estimateLeftMs(10_000, 2, 6)).toBe(20_000);
    expect(estimateLeftMs(10_000, 6, 6)).toBeUndefined();
    expect(estimateLeftMs(10_000, 2, undefined)).toBeUndefined();
    expect(estimateLeftMs(10_000, 2, 6, 4000)).toBe(16_000);
    expect(estimateLeftMs(10_000, 2, 3, 9000)).toBe(0);
  });

  it("on a terminal: each finished step becomes a line with its duration; a failure says so", async () => {
    let t = 0;
    const c = capture(true);
    const p = createProgress({ stream: c.stream, interactive: true, expectedSteps: 3, now: () => t });
    p.step("one");
    t = 1000;
    p.step("two");
    t = 3000;
    p.fail("two broke");
    await new Promise((r) => setImmediate(r));
    const text = c.text();
    expect(text).toMatch(/one \(1\.0 s\)/);
    expect(text).toMatch(/two broke/);
  });
});
