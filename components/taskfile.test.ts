// The Task CLI is not installable here: check the Taskfile's shape and that every npm script it calls exists.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { expect, it } from "vitest";

const root = join(import.meta.dirname, "..");
const taskfile = parse(readFileSync(join(root, "Taskfile.yml"), "utf8")) as {
  version: string;
  tasks: Record<string, { cmds: Array<string | { task: string }>; deps?: string[] }>;
};
const scripts = (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;

it("has the tasks users run, and every npm script they call exists", () => {
  expect(taskfile.version).toBe("3");
  for (const t of ["full-deploy-local", "verify", "cleanup", "render", "bench", "test", "demo"]) expect(Object.keys(taskfile.tasks)).toContain(t);
  const called = Object.values(taskfile.tasks).flatMap((t) =>
    t.cmds.filter((c): c is string => typeof c === "string").flatMap((c) => [...c.matchAll(/npm (?:run )?([\w:-]+)/g)].map((m) => m[1]!)),
  );
  expect(called.length).toBeGreaterThan(5);
  for (const s of called) if (s !== "ci") expect(scripts, `npm script "${s}"`).toHaveProperty(s);
  for (const t of Object.values(taskfile.tasks)) for (const d of t.deps ?? []) expect(taskfile.tasks).toHaveProperty(d);
});
