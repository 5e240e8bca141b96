import { describe, expect, it } from "vitest";
import { parseRenderArgs } from "./render-args.ts";

describe("npm run render's options (issue 10, problem 3)", () => {
  it("takes the images from --registry and the Git URL from --repo or the origin remote", () => {
    expect(parseRenderArgs(["--registry", "ghcr.io/me/ambient-lab/"], "git@github.com:me/ambient-lab.git")).toMatchObject({
      registry: "ghcr.io/me/ambient-lab",
      repo: "git@github.com:me/ambient-lab.git",
      tag: "0.1.0",
      out: "deploy",
    });
    expect(parseRenderArgs(["--registry", "localhost:5000/al", "--repo", "https://example.com/x.git"], undefined)).toMatchObject({
      repo: "https://example.com/x.git",
    });
  });
  it("never invents a registry or a repository, and names every problem", () => {
    expect(() => parseRenderArgs([], undefined)).toThrow(/--registry is required[\s\S]*--repo is required/);
    expect(() => parseRenderArgs(["--registry", "GHCR.io/Me", "--tag", "latest"], "https://e.com/r.git")).toThrow(/not a registry path[\s\S]*pinned/);
    expect(() => parseRenderArgs(["--registry", "r.io/x", "--bogus"], "https://e.com/r.git")).toThrow(/Unknown option '--bogus'/);
    expect(parseRenderArgs(["--help"], undefined)).toBe("help");
  });
  it("--out is a directory of the checkout, as ArgoCD and Flux address it in the repository", () => {
    const args = (out: string) => parseRenderArgs(["--registry", "r.io/x", "--out", out], "https://e.com/r.git");
    expect(args("./gitops/deploy/")).toMatchObject({ out: "gitops/deploy" });
    for (const bad of ["/tmp/deploy", "../elsewhere", ".", "a/../.."]) expect(() => args(bad)).toThrow(/must be a directory inside this checkout/);
  });
});
