// The test tiers hold by construction: a test file that creates network namespaces or a local cluster
// (root) is named *.netns.test.ts or *.e2e.test.ts, which `npm run test:unit` leaves out.
import { existsSync, readFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { expect, it } from "vitest";

const root = join(import.meta.dirname, "..", "..");

it("every test that needs root is in the root tier", () => {
  const files = execFileSync("git", ["ls-files", "*.test.ts"], { cwd: root, encoding: "utf8" })
    .trim()
    .split("\n")
    .filter((f) => existsSync(join(root, f)));
  const needsRoot = /"netns", "(add|exec)"|new LocalCluster\(|ctl\(\["up"|\bnft\b.*-f/;
  const misplaced = files.filter((f) => !/\.(netns|e2e)\.test\.ts$/.test(f) && needsRoot.test(readFileSync(join(root, f), "utf8")));
  expect(misplaced, "rename these to *.netns.test.ts so the unit tier (no root) skips them").toEqual([]);
  expect(files.filter((f) => /\.(netns|e2e)\.test\.ts$/.test(f)).length).toBeGreaterThan(5);
});
