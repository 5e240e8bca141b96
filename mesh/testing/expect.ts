// Assertions the test files share (vitest only: not for the benchmarks or scripts that use mesh/testing).
import { readFileSync, writeFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
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

/**
 * A rendered GitOps tree (path -> YAML) orders every dependency: each Flux Kustomization's dependsOn
 * names an existing one, and ArgoCD syncs that one in an earlier wave. Returns each Kustomization's
 * dependencies by name, for the caller's own checks.
 */
export function expectGitOpsOrdered(tree: Map<string, string>): Map<string, string[]> {
  type Doc = { apiVersion: string; kind: string; metadata: { name: string; annotations?: Record<string, string> }; spec: Record<string, unknown> };
  const docs = (p: string): Doc[] => parseAllDocuments(tree.get(p)!).map((d) => d.toJS() as Doc);
  const ks = new Map<string, { deps: string[]; file: string }>();
  for (const [p] of tree) {
    if (!p.startsWith("flux/") || p.startsWith("flux/releases/")) continue;
    // Flux's Kustomizations, not kustomize's own kustomization.yaml.
    for (const d of docs(p))
      if (d.kind === "Kustomization" && d.apiVersion.startsWith("kustomize.toolkit.fluxcd.io/"))
        ks.set(d.metadata.name, { deps: ((d.spec.dependsOn ?? []) as Array<{ name: string }>).map((x) => x.name), file: p.slice("flux/".length) });
  }
  const wave = (file: string) => Number(docs(`argocd/${file}`)[0]!.metadata.annotations!["argocd.argoproj.io/sync-wave"]);
  for (const [name, k] of ks)
    for (const dep of k.deps) {
      expect(ks.has(dep), `${name} depends on unknown ${dep}`).toBe(true);
      expect(wave(ks.get(dep)!.file), `${dep} before ${name}`).toBeLessThan(wave(k.file));
    }
  return new Map([...ks].map(([n, k]) => [n, k.deps]));
}
