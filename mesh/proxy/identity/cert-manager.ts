// Holds one certificate per workload identity running on this node. Certificates are requested with a
// fresh key and CSR through the CaClient, renewed at half-life, and on failure the old certificate is
// kept while the request is retried with backoff (500 ms doubling to 150 s, as Istio's ztunnel does).
import tls from "node:tls";
import { Backoff } from "../../shared/index.ts";
import { systemClock, type Clock } from "../../shared/index.ts";
import { describeError, ErrorCode, MeshError } from "../../shared/index.ts";
import { formatIdentity, type Identity } from "../../shared/index.ts";
import type { Logger } from "../../shared/index.ts";
import { certValidity, createCsr } from "../../shared/index.ts";
import type { CaClient } from "./ca-client.ts";
import { compareStrings } from "../../shared/index.ts";

export interface WorkloadCert {
  identity: Identity;
  chainPem: string[];
  keyPem: string;
  roots: string[];
  notBefore: Date;
  notAfter: Date;
  serial: string;
  /** Ready-made TLS context: this identity's chain and key, trusting `roots`. */
  context: tls.SecureContext;
}

interface Entry {
  cert: WorkloadCert | undefined;
  inflight: Promise<WorkloadCert> | undefined;
  timer: { cancel(): void } | undefined;
  backoff: Backoff;
  lastError: string | undefined;
}

export interface CertManagerOptions {
  ca: CaClient;
  ttlSeconds: number;
  log: Logger;
  clock?: Clock;
  random?: () => number;
}

export class CertManager {
  private readonly entries = new Map<string, Entry>();
  private readonly opts: Required<CertManagerOptions>;
  private closed = false;

  constructor(opts: CertManagerOptions) {
    this.opts = { clock: systemClock, random: Math.random, ...opts };
  }

  /** The certificate for `identity`, fetching it now if this node has none yet. */
  async get(identity: Identity): Promise<WorkloadCert> {
    const entry = this.entry(identity);
    if (entry.cert && entry.cert.notAfter.getTime() > this.opts.clock.now()) return entry.cert;
    return entry.inflight ?? this.fetch(identity, entry);
  }

  /** Keeps certificates for exactly these identities: prefetches new ones, forgets the others. */
  track(identities: Iterable<Identity>): void {
    const want = new Map<string, Identity>();
    for (const id of identities) want.set(formatIdentity(id), id);
    for (const [key, entry] of this.entries) {
      if (!want.has(key)) {
        entry.timer?.cancel();
        this.entries.delete(key);
      }
    }
    for (const id of want.values()) {
      const entry = this.entry(id);
      if (!entry.cert && !entry.inflight) this.fetch(id, entry).catch(() => undefined);
    }
  }

  /** Certificates held now, for /config_dump. */
  dump(): Array<{ identity: string; state: string; serial?: string; notBefore?: string; notAfter?: string; lastError?: string }> {
    return [...this.entries.entries()]
      .sort(([a], [b]) => compareStrings(a, b))
      .map(([identity, e]) => ({
        identity,
        state: e.cert ? "Available" : e.inflight ? "Initializing" : "Unavailable",
        ...(e.cert ? { serial: e.cert.serial, notBefore: e.cert.notBefore.toISOString(), notAfter: e.cert.notAfter.toISOString() } : {}),
        ...(e.lastError ? { lastError: e.lastError } : {}),
      }));
  }

  close(): void {
    this.closed = true;
    for (const e of this.entries.values()) e.timer?.cancel();
    this.entries.clear();
  }

  private entry(identity: Identity): Entry {
    const key = formatIdentity(identity);
    let e = this.entries.get(key);
    if (!e) {
      e = {
        cert: undefined,
        inflight: undefined,
        timer: undefined,
        lastError: undefined,
        backoff: new Backoff({ initialMs: 500, maxMs: 150_000, random: this.opts.random }),
      };
      this.entries.set(key, e);
    }
    return e;
  }

  private fetch(identity: Identity, entry: Entry): Promise<WorkloadCert> {
    const p = this.request(identity).then(
      (cert) => {
        entry.inflight = undefined;
        entry.cert = cert;
        entry.lastError = undefined;
        entry.backoff.reset();
        // Renew at half-life: early enough that a CA outage of half the TTL is survived.
        const half = cert.notBefore.getTime() + (cert.notAfter.getTime() - cert.notBefore.getTime()) / 2;
        this.schedule(identity, entry, half - this.opts.clock.now());
        this.opts.log.info({ identity: formatIdentity(identity), notAfter: cert.notAfter.toISOString() }, "workload certificate issued");
        return cert;
      },
      (err: unknown) => {
        entry.inflight = undefined;
        entry.lastError = describeError(err);
        const delay = entry.backoff.next();
        this.opts.log.warn(
          { identity: formatIdentity(identity), err: entry.lastError, retryInMs: delay, keepingOld: entry.cert !== undefined },
          "workload certificate request failed",
        );
        this.schedule(identity, entry, delay);
        throw new MeshError(ErrorCode.Identity, `no certificate for ${formatIdentity(identity)}: is the CA reachable?`, { cause: err });
      },
    );
    entry.inflight = p;
    return p;
  }

  private schedule(identity: Identity, entry: Entry, ms: number): void {
    entry.timer?.cancel();
    if (this.closed) return;
    entry.timer = this.opts.clock.setTimeout(() => {
      if (this.entries.get(formatIdentity(identity)) !== entry) return; // forgotten meanwhile
      if (!entry.inflight) this.fetch(identity, entry).catch(() => undefined);
    }, ms);
  }

  private async request(identity: Identity): Promise<WorkloadCert> {
    const { csrPem, keyPem } = await createCsr(identity);
    const [chainPem, roots] = await Promise.all([this.opts.ca.sign({ csrPem, identity, ttlSeconds: this.opts.ttlSeconds }), this.opts.ca.trustBundle()]);
    const leaf = chainPem[0];
    if (!leaf) throw new MeshError(ErrorCode.Ca, "the CA returned an empty certificate chain");
    const v = certValidity(leaf);
    // The root closes the chain; TLS peers get it from their own trust bundle, not from us.
    const presented = chainPem.filter((c) => !roots.includes(c));
    const context = tls.createSecureContext({ cert: presented.join(""), key: keyPem, ca: roots, minVersion: "TLSv1.3" });
    return { identity, chainPem, keyPem, roots, notBefore: v.notBefore, notAfter: v.notAfter, serial: v.serial, context };
  }
}
