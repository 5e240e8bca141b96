// Golden tests: testdata/<case>.in.yaml (Kubernetes objects) -> <case>.out.yaml (what proxies get).
// Regenerate with UPDATE_GOLDEN=1 after checking the change is intended.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DEFAULT_TRANSLATE_OPTIONS as DEFAULT, translate } from "./index.ts";
import { translationToYaml } from "./serialize.ts";
import { expectGolden } from "../../testing/expect.ts";
import { snapshotFromYaml as snapshotFrom } from "../model/manifests.ts";

const dir = join(import.meta.dirname, "testdata");

describe("translation (golden)", () => {
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith(".in.yaml"))
    .sort()) {
    const name = file.replace(/\.in\.yaml$/, "");
    it(name, () => {
      const out = translationToYaml(translate(snapshotFrom(readFileSync(join(dir, file), "utf8"))));
      const golden = join(dir, `${name}.out.yaml`);
      expectGolden(golden, out);
    });
  }

  it("is deterministic whatever the input order", () => {
    const text = readFileSync(join(dir, "enrollment.in.yaml"), "utf8");
    const docs = text.split(/^---$/m);
    const reversed = [...docs].reverse().join("\n---\n");
    expect(translationToYaml(translate(snapshotFrom(reversed)))).toBe(translationToYaml(translate(snapshotFrom(text))));
  });
});

describe("incremental translation", () => {
  it("after a pod-only change gives exactly the full translation, reusing unchanged workloads", async () => {
    const { translateIncremental } = await import("./index.ts");
    const text = readFileSync(join(dir, "enrollment.in.yaml"), "utf8");
    const snap = snapshotFrom(text);
    const first = translateIncremental(snap, DEFAULT);
    const changedPod = structuredClone(snap.Pod[1]!);
    changedPod.metadata!.labels = { ...changedPod.metadata!.labels, version: "v9" };
    const next = { ...snap, Pod: snap.Pod.map((p, i) => (i === 1 ? changedPod : p)) };
    const inc = translateIncremental(next, DEFAULT, { memo: first.memo, podsOnly: true });
    expect(translationToYaml(inc.translation)).toBe(translationToYaml(translate(next)));
    const reused = inc.translation.workloads.filter((w) => first.translation.workloads.includes(w));
    expect(reused.length).toBe(first.translation.workloads.length - 1);
  });
});
