// Remembers who a bearer token belongs to, so that a proxy's burst of CSRs (one per workload on its node,
// and every renewal) costs one TokenReview instead of one each (issue 13: a review per CSR was part of
// the CA's cost).
// An entry lives until the earliest of: the token's own expiry (the `exp` claim of a service-account
// token, read but not verified: the API server verified the token when it reviewed it); `maxAgeMs`
// after the review, so that a token revoked before it expires (its pod deleted) stops working within
// that time, as the kube-apiserver's own webhook token cache does (2 minutes by default); and eviction,
// oldest first, at `maxEntries`. Rejections are never cached. Concurrent calls with one token share
// one review. Entries are keyed by the token's SHA-256, so the cache holds no token.
import { createHash } from "node:crypto";
import { systemClock, type Clock } from "../../shared/index.ts";
import { bearerToken, type Authenticator, type Caller } from "./authenticator.ts";

export interface CachedAuthenticatorOptions {
  clock?: Clock;
  /** Longest time a review is trusted (default 2 minutes). */
  maxAgeMs?: number;
  /** Entries kept (default 10,000; each is a caller and a hash). */
  maxEntries?: number;
}

/** The `exp` claim of a JWT in ms since the epoch; undefined when `token` is not a JWT with a numeric exp. */
export function tokenExpiry(token: string): number | undefined {
  const parts = token.split(".");
  if (parts.length !== 3 || parts[1]!.length > 16_384) return undefined;
  try {
    const claims: unknown = JSON.parse(Buffer.from(parts[1]!, "base64url").toString("utf8"));
    const exp = (claims as { exp?: unknown } | null)?.exp;
    return typeof exp === "number" && Number.isFinite(exp) ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

export class CachedAuthenticator implements Authenticator {
  private readonly inner: Authenticator;
  private readonly clock: Clock;
  private readonly maxAgeMs: number;
  private readonly maxEntries: number;
  /** Insertion order is age order: the first entry is the oldest. */
  private readonly entries = new Map<string, { caller: Caller; until: number }>();
  private readonly inflight = new Map<string, Promise<Caller>>();
  /** Reviews asked of the inner authenticator (tests and the bench read it). */
  reviews = 0;

  constructor(inner: Authenticator, opts: CachedAuthenticatorOptions = {}) {
    this.inner = inner;
    this.clock = opts.clock ?? systemClock;
    this.maxAgeMs = opts.maxAgeMs ?? 120_000;
    this.maxEntries = opts.maxEntries ?? 10_000;
  }

  get size(): number {
    return this.entries.size;
  }

  async authenticate(authorization: string | null): Promise<Caller> {
    const token = bearerToken(authorization);
    const key = createHash("sha256").update(token).digest("base64");
    const now = this.clock.now();
    const hit = this.entries.get(key);
    if (hit && hit.until > now) return hit.caller;
    if (hit) this.entries.delete(key);
    const running = this.inflight.get(key);
    if (running) return running;
    const review = this.review(key, token, authorization);
    this.inflight.set(key, review);
    try {
      return await review;
    } finally {
      this.inflight.delete(key);
    }
  }

  private async review(key: string, token: string, authorization: string | null): Promise<Caller> {
    this.reviews++;
    const started = this.clock.now();
    const caller = await this.inner.authenticate(authorization);
    const until = Math.min(started + this.maxAgeMs, tokenExpiry(token) ?? Number.POSITIVE_INFINITY);
    if (until > this.clock.now()) {
      while (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
      this.entries.set(key, { caller, until });
    }
    return caller;
  }
}
