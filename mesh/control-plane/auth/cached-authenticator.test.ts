import { randomBytes } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { ManualClock } from "../../shared/index.ts";
import type { Authenticator, Caller } from "./authenticator.ts";
import { CachedAuthenticator, tokenExpiry } from "./cached-authenticator.ts";

const jwt = (claims: object) => `e30.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.c2ln`;

/** An API server stand-in: which tokens it accepts now, and how often it was asked. */
class Reviewer implements Authenticator {
  valid = new Set<string>();
  calls = 0;
  gate: Promise<void> = Promise.resolve();
  async authenticate(authorization: string | null): Promise<Caller> {
    this.calls++;
    await this.gate;
    const token = authorization!.slice("Bearer ".length);
    if (!this.valid.has(token)) throw new ConnectError("token rejected by the API server", Code.Unauthenticated);
    return { subject: `sa:${token.slice(-6)}`, node: "node-1" };
  }
}

function setup(opts: { maxAgeMs?: number; maxEntries?: number } = {}) {
  const clock = new ManualClock();
  const inner = new Reviewer();
  const auth = new CachedAuthenticator(inner, { clock, ...opts });
  return { clock, inner, auth };
}

describe("cached TokenReview", () => {
  it("reviews a token once while it is trusted, and each token apart", async () => {
    const { inner, auth } = setup();
    inner.valid.add("tok-a").add("tok-b");
    for (let i = 0; i < 5; i++) expect((await auth.authenticate("Bearer tok-a")).subject).toBe("sa:tok-a");
    await auth.authenticate("Bearer tok-b");
    expect(inner.calls).toBe(2);
  });

  it("shares one review among concurrent calls with the same token", async () => {
    const { inner, auth } = setup();
    inner.valid.add("tok-a");
    let open!: () => void;
    inner.gate = new Promise((r) => (open = r));
    const calls = Array.from({ length: 16 }, () => auth.authenticate("Bearer tok-a"));
    open();
    await Promise.all(calls);
    expect(inner.calls).toBe(1);
  });

  it("honours a revocation at the token's expiry: after exp the API server is asked again and its no stands", async () => {
    const { clock, inner, auth } = setup();
    const token = jwt({ iss: "kubernetes/serviceaccount", exp: Math.floor(clock.now() / 1000) + 30 });
    inner.valid.add(token);
    await auth.authenticate(`Bearer ${token}`);
    clock.advance(29_000);
    await auth.authenticate(`Bearer ${token}`);
    expect(inner.calls).toBe(1);
    inner.valid.delete(token); // expired (or revoked) as far as the API server is concerned
    clock.advance(2_000);
    await expect(auth.authenticate(`Bearer ${token}`)).rejects.toMatchObject({ code: Code.Unauthenticated });
    expect(inner.calls).toBe(2);
    expect(auth.size).toBe(0);
  });

  it("re-reviews after maxAgeMs even when the token expires much later (a deleted pod's token)", async () => {
    const { clock, inner, auth } = setup({ maxAgeMs: 60_000 });
    const token = jwt({ exp: Math.floor(clock.now() / 1000) + 3600 });
    inner.valid.add(token);
    await auth.authenticate(`Bearer ${token}`);
    inner.valid.delete(token);
    clock.advance(59_000);
    await auth.authenticate(`Bearer ${token}`);
    clock.advance(2_000);
    await expect(auth.authenticate(`Bearer ${token}`)).rejects.toThrow(/rejected/);
  });

  it("never caches a rejection, nor a token already expired", async () => {
    const { clock, inner, auth } = setup();
    await expect(auth.authenticate("Bearer tok-a")).rejects.toThrow(/rejected/);
    inner.valid.add("tok-a");
    await auth.authenticate("Bearer tok-a");
    expect(inner.calls).toBe(2);
    const stale = jwt({ exp: Math.floor(clock.now() / 1000) - 1 });
    inner.valid.add(stale);
    await auth.authenticate(`Bearer ${stale}`);
    await auth.authenticate(`Bearer ${stale}`);
    expect(inner.calls).toBe(4);
  });

  it("holds at most maxEntries, evicting the oldest, and no token", async () => {
    const { inner, auth } = setup({ maxEntries: 3 });
    const tokens = Array.from({ length: 5 }, (_, i) => `tok-${i}`);
    for (const t of tokens) inner.valid.add(t);
    for (const t of tokens) await auth.authenticate(`Bearer ${t}`);
    expect(auth.size).toBe(3);
    await auth.authenticate("Bearer tok-4");
    expect(inner.calls).toBe(5);
    await auth.authenticate("Bearer tok-0");
    expect(inner.calls).toBe(6);
    expect([...(auth as unknown as { entries: Map<string, unknown> }).entries.keys()].join()).not.toContain("tok-");
  });

  it("answers a malformed authorization header as before, without a review", async () => {
    const { inner, auth } = setup();
    await expect(auth.authenticate(null)).rejects.toMatchObject({ code: Code.Unauthenticated });
    await expect(auth.authenticate("Basic abc")).rejects.toThrow(/Bearer/);
    expect(inner.calls).toBe(0);
  });
});

describe("tokenExpiry", () => {
  it("reads exp from a JWT, and nothing from anything else, without throwing", () => {
    expect(tokenExpiry(jwt({ exp: 1_800_000_000 }))).toBe(1_800_000_000_000);
    for (const t of ["", "a.b", "a.b.c", jwt({ exp: "soon" }), jwt({}), "e30.bnVsbA.x", `e30.${"A".repeat(20_000)}.x`, jwt({ exp: 1e400 })]) {
      expect(tokenExpiry(t)).toBeUndefined();
    }
    for (let i = 0; i < 2000; i++) {
      const raw = randomBytes(1 + (i % 90));
      const t = [raw.subarray(0, 3), raw.subarray(3), raw.subarray(1)].map((b) => b.toString(i % 2 ? "base64url" : "latin1")).join(".");
      expect(() => tokenExpiry(t)).not.toThrow();
    }
  });
});
