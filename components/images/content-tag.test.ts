import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { contentHash, hostPlatform } from "./content-tag.ts";

const dir = mkdtempSync(join(tmpdir(), "al-hash-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("content tags", () => {
  it("change with any build input and only then", () => {
    mkdirSync(join(dir, "mesh", "a"), { recursive: true });
    writeFileSync(join(dir, "package.json"), "{}");
    writeFileSync(join(dir, "package-lock.json"), "{}");
    writeFileSync(join(dir, "mesh", "a", "x.ts"), "export const x = 1;\n");
    writeFileSync(join(dir, "README.md"), "not an input");
    const first = contentHash(dir);
    expect(first).toMatch(/^[0-9a-f]{12}$/);
    writeFileSync(join(dir, "README.md"), "still not an input");
    expect(contentHash(dir)).toBe(first);
    writeFileSync(join(dir, "mesh", "a", "x.ts"), "export const x = 2;\n");
    expect(contentHash(dir)).not.toBe(first);
  });
  it("build for this machine when loading into kind", () => {
    expect(hostPlatform("arm64")).toBe("linux/arm64");
    expect(hostPlatform("x64")).toBe("linux/amd64");
  });
});
