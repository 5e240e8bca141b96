// File mode's bootstrap tokens, the stand-in for Kubernetes' projected service-account tokens: one per
// node (ztunnel) or service account (waypoints, sidecars) at <dir>/<name>.token, mode 0600 in a 0700
// directory. Like projected tokens they expire (default 12 h, Istio's istio-token expirationSeconds) and
// are rotated: at half their life a new token replaces the file, and the previous one stays valid until
// its own expiry, so a proxy that re-reads its file on each call never holds a token that just died.
// Expiry times live in <dir>/index.json, which only the control plane reads.
import { randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";

export interface BootstrapTokenOptions {
  /** Lifetime of each token. */
  ttlMs: number;
  now?: () => number;
}

interface Issued {
  name: string;
  issuedAt: number;
  expiresAt: number;
}

export const DEFAULT_BOOTSTRAP_TOKEN_TTL_MS = 12 * 3600_000;

export class BootstrapTokens {
  private readonly dir: string;
  private readonly ttlMs: number;
  private readonly now: () => number;
  /** Every token still valid or recently expired, by token. */
  private issued = new Map<string, Issued>();
  private writing: Promise<void> = Promise.resolve();

  constructor(dir: string, opts: Partial<BootstrapTokenOptions> = {}) {
    this.dir = dir;
    this.ttlMs = opts.ttlMs ?? DEFAULT_BOOTSTRAP_TOKEN_TTL_MS;
    this.now = opts.now ?? Date.now;
  }

  /** Creates tokens for `names` that have none, and rotates those past half their life. Serialized. */
  ensure(names: readonly string[]): Promise<void> {
    this.writing = this.writing.then(
      () => this.update(names),
      () => this.update(names),
    );
    return this.writing;
  }

  /** Rotates every token past half its life and forgets expired ones. */
  rotate(): Promise<void> {
    return this.ensure([]);
  }

  private async update(names: readonly string[]): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await this.load();
    const now = this.now();
    const current = new Map<string, Issued & { token: string }>();
    for (const f of (await readdir(this.dir)).filter((x) => x.endsWith(".token"))) {
      const name = f.slice(0, -6);
      const token = (await readFile(join(this.dir, f), "utf8")).trim();
      let meta = this.issued.get(token);
      if (token && !meta) {
        // A token file from before expiry existed (or written by hand): it starts its life now.
        meta = { name, issuedAt: now, expiresAt: now + this.ttlMs };
        this.issued.set(token, meta);
      }
      if (meta) current.set(name, { ...meta, token });
    }
    for (const name of new Set([...names, ...current.keys()])) {
      const cur = current.get(name);
      if (cur && now < cur.issuedAt + this.ttlMs / 2) continue;
      const token = randomBytes(24).toString("base64url");
      this.issued.set(token, { name, issuedAt: now, expiresAt: now + this.ttlMs });
      await writeAtomic(join(this.dir, `${name}.token`), `${token}\n`);
    }
    // Expired tokens are remembered one more lifetime, so their use is refused as expired, not unknown.
    for (const [token, meta] of this.issued) if (meta.expiresAt + this.ttlMs <= now) this.issued.delete(token);
    await writeAtomic(join(this.dir, "index.json"), JSON.stringify(Object.fromEntries(this.issued), null, 1));
  }

  private async load(): Promise<void> {
    try {
      const index = JSON.parse(await readFile(join(this.dir, "index.json"), "utf8")) as Record<string, Issued>;
      this.issued = new Map(Object.entries(index));
    } catch {
      // no index yet: every existing token file starts its life now
    }
  }

  /** Reads the index again (tests, or another writer). */
  async reload(): Promise<void> {
    await this.load();
  }

  /** The name a token was issued to, whether or not it has expired; undefined for a token never issued. */
  lookup(token: string): { name: string; expired: boolean } | undefined {
    const meta = this.issued.get(token);
    return meta ? { name: meta.name, expired: this.now() >= meta.expiresAt } : undefined;
  }

  /** Valid tokens -> name. */
  map(): ReadonlyMap<string, string> {
    const now = this.now();
    return new Map([...this.issued].filter(([, m]) => now < m.expiresAt).map(([t, m]) => [t, m.name]));
  }

  path(name: string): string {
    return join(this.dir, `${name}.token`);
  }

  /** How often to call rotate() so no token is used past half its life by much. */
  get rotationCheckMs(): number {
    return Math.max(250, Math.min(60_000, this.ttlMs / 8));
  }
}

async function writeAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp`;
  await writeFile(tmp, text, { mode: 0o600 });
  await rename(tmp, path);
}
