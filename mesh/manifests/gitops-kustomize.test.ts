// `kubectl kustomize` (the kustomize ArgoCD and Flux run) builds every folder of the rendered GitOps
// tree: each listed file exists, no object is there twice, and every file lands in the build.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { parse, parseAllDocuments } from "yaml";
import { afterAll, expect, it } from "vitest";
import { testGitOpsOptions } from "../testing/index.ts";
import { renderGitOpsTree } from "./gitops.ts";

const dir = mkdtempSync(join(tmpdir(), "al-kustomize-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it("kubectl kustomize builds every folder of the rendered tree, with every object it lists", () => {
  const files = renderGitOpsTree(testGitOpsOptions(["baseline", "ambient", "sidecar", "waypoint"]));
  for (const [path, text] of files) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  const folders = [...files.keys()].filter((p) => p.endsWith("/kustomization.yaml")).map((p) => dirname(p));
  expect(folders.length).toBeGreaterThan(5);
  for (const folder of folders) {
    const r = spawnSync("kubectl", ["kustomize", join(dir, folder)], { encoding: "utf8" });
    expect(r.error, "kubectl is installed by npm test's pretest (apt-get install kubernetes-client)").toBeUndefined();
    expect(r.status, `kubectl kustomize ${folder}: ${r.stderr}`).toBe(0);
    const built = parseAllDocuments(r.stdout).map((d) => d.toJS() as { kind: string; metadata: { name: string; namespace?: string } });
    const listed = (parse(files.get(`${folder}/kustomization.yaml`)!) as { resources: string[] }).resources;
    const expected = listed.flatMap((f) =>
      parseAllDocuments(files.get(`${folder}/${f}`)!).map((d) => d.toJS() as { kind: string; metadata: { name: string; namespace?: string } }),
    );
    const key = (o: { kind: string; metadata: { name: string; namespace?: string } }) => `${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`;
    expect(built.map(key).sort(), folder).toEqual(expected.map(key).sort());
  }
});
