// Assertions the test files share (vitest only: not for the benchmarks or scripts that use mesh/testing).
import { readFileSync, writeFileSync } from "node:fs";
import { expect } from "vitest";
import { waitFor } from "./wait.ts";

/** Polls until `cond` holds (default up to 5 s), then asserts it: a timeout fails the test at the caller. */
export async function eventually(cond: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  await waitFor(cond, ms);
  expect(await cond()).toBe(true);
}

/** Compares with a golden file; UPDATE_GOLDEN=1 rewrites it (check the diff before committing). */
export function expectGolden(path: string, actual: string): void {
  if (process.env.UPDATE_GOLDEN) writeFileSync(path, actual);
  expect(actual).toBe(readFileSync(path, "utf8"));
}
