// Per-node bootstrap tokens for file mode: <dir>/<node>.token, created on demand, mode 0600.
import { randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

export class BootstrapTokens {
  private readonly dir: string;
  private byToken = new Map<string, string>();

  constructor(dir: string) {
    this.dir = dir;
  }

  /** Reads existing tokens and creates missing ones for `nodes`. */
  async ensure(nodes: readonly string[]): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const existing = new Set((await readdir(this.dir)).filter((f) => f.endsWith(".token")).map((f) => f.slice(0, -6)));
    for (const n of nodes) {
      if (!existing.has(n)) await writeFile(join(this.dir, `${n}.token`), randomBytes(24).toString("base64url") + "\n", { mode: 0o600, flag: "wx" }).catch(() => undefined);
    }
    await this.reload();
  }

  async reload(): Promise<void> {
    const next = new Map<string, string>();
    for (const f of (await readdir(this.dir)).filter((x) => x.endsWith(".token"))) {
      const token = (await readFile(join(this.dir, f), "utf8")).trim();
      if (token) next.set(token, f.slice(0, -6));
    }
    this.byToken = next;
  }

  map(): ReadonlyMap<string, string> {
    return this.byToken;
  }

  path(node: string): string {
    return join(this.dir, `${node}.token`);
  }
}
