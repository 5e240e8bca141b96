// The Gateway API's HTTPPathModifier table (ReplacePrefixMatch) and redirect Location rules.
import { describe, expect, it } from "vitest";
import { modifyPath, redirectLocation, splitHost } from "./rewrite.ts";

describe("modifyPath", () => {
  // Matched prefix, request path, replacement, result: the table in the Gateway API's HTTPPathModifier docs.
  it.each([
    ["/foo", "/foo/bar", "/xyz", "/xyz/bar"],
    ["/foo", "/foo/bar", "/xyz/", "/xyz/bar"],
    ["/foo/", "/foo/bar", "/xyz", "/xyz/bar"],
    ["/foo/", "/foo/bar", "/xyz/", "/xyz/bar"],
    ["/foo", "/foo", "/xyz", "/xyz"],
    ["/foo", "/foo/", "/xyz", "/xyz/"],
    ["/foo/", "/foo/", "/xyz", "/xyz/"],
    ["/foo", "/foo", "/", "/"],
    ["/foo", "/foo/", "/", "/"],
    ["/foo", "/foo/bar", "/", "/bar"],
    ["/", "/bar", "/xyz", "/xyz/bar"],
  ])("prefix %s, path %s, replacement %s -> %s", (prefix, path, value, want) => {
    expect(modifyPath(path, { type: "ReplacePrefixMatch", value }, prefix)).toBe(want);
  });

  it("replaces the whole path with ReplaceFullPath", () => {
    expect(modifyPath("/a/b/c", { type: "ReplaceFullPath", value: "/one" }, "/a")).toBe("/one");
  });
});

describe("redirectLocation", () => {
  it("keeps what the redirect does not change, and leaves out a scheme's default port", () => {
    expect(redirectLocation("echo", "/a?x=1", { statusCode: 302, hostname: "example.org" }, undefined)).toBe("http://example.org/a?x=1");
    expect(redirectLocation("echo:8080", "/a", { statusCode: 302 }, undefined)).toBe("http://echo:8080/a");
    expect(redirectLocation("echo:8080", "/a", { statusCode: 302, scheme: "https" }, undefined)).toBe("https://echo/a");
    expect(redirectLocation("echo", "/a", { statusCode: 302, scheme: "https", port: 443 }, undefined)).toBe("https://echo/a");
    expect(redirectLocation("echo", "/a", { statusCode: 302, port: 80 }, undefined)).toBe("http://echo/a");
    expect(redirectLocation("echo", "/a", { statusCode: 302, port: 8083 }, undefined)).toBe("http://echo:8083/a");
    expect(redirectLocation("[fd00::1]:8080", "/p/q", { statusCode: 301, path: { type: "ReplacePrefixMatch", value: "/r" } }, "/p")).toBe(
      "http://[fd00::1]:8080/r/q",
    );
  });

  it("splits Host headers, IPv6 literals included", () => {
    expect(splitHost("a.b:81")).toEqual({ name: "a.b", port: 81 });
    expect(splitHost("[fd00::1]")).toEqual({ name: "[fd00::1]", port: undefined });
    expect(splitHost("echo")).toEqual({ name: "echo", port: undefined });
  });
});
