import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BootstrapTokenAuthenticator } from "./authenticator.ts";
import { BootstrapTokens } from "./bootstrap-tokens.ts";

const dir = mkdtempSync(join(tmpdir(), "al-tokens-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("bootstrap tokens", () => {
  it("expire, rotate at half-life keeping the previous token until its expiry, and are refused once expired", async () => {
    let now = 1_000_000;
    const ttlMs = 10_000;
    const tokens = new BootstrapTokens(join(dir, "t"), { ttlMs, now: () => now });
    const auth = new BootstrapTokenAuthenticator((t) => tokens.lookup(t));
    const bearer = (t: string) => `Bearer ${t}`;
    await tokens.ensure(["node-1"]);
    const first = readFileSync(tokens.path("node-1"), "utf8").trim();
    expect(statSync(tokens.path("node-1")).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, "t")).mode & 0o777).toBe(0o700);
    expect(await auth.authenticate(bearer(first))).toMatchObject({ node: "node-1" });

    now += 4_000; // before half-life: unchanged
    await tokens.rotate();
    expect(readFileSync(tokens.path("node-1"), "utf8").trim()).toBe(first);

    now += 2_000; // past half-life: a new token in the file, the old one still accepted
    await tokens.rotate();
    const second = readFileSync(tokens.path("node-1"), "utf8").trim();
    expect(second).not.toBe(first);
    expect(await auth.authenticate(bearer(first))).toMatchObject({ node: "node-1" });
    expect(await auth.authenticate(bearer(second))).toMatchObject({ node: "node-1" });

    now += 4_500; // the first token is past its 10 s
    await expect(auth.authenticate(bearer(first))).rejects.toThrow(/bootstrap token for node-1 expired/);
    expect(await auth.authenticate(bearer(second))).toMatchObject({ node: "node-1" });
    await expect(auth.authenticate(bearer("never-issued"))).rejects.toThrow(/unknown bootstrap token/);

    // A restarted control plane keeps the expiry times (index.json), not a fresh lifetime for old tokens.
    const again = new BootstrapTokens(join(dir, "t"), { ttlMs, now: () => now });
    await again.ensure([]);
    expect(again.lookup(first)).toEqual({ name: "node-1", expired: true });
  });
});
