// Exponential backoff with full jitter. The random source is injected so tests are deterministic.

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  factor?: number;
  random?: () => number;
}

export class Backoff {
  private attempt = 0;
  private readonly opts: Required<BackoffOptions>;

  constructor(opts: BackoffOptions) {
    this.opts = { factor: 2, random: Math.random, ...opts };
  }

  /** Delay before the next attempt; grows until maxMs. Jitter keeps a fleet from retrying in lockstep. */
  next(): number {
    const ceiling = Math.min(this.opts.maxMs, this.opts.initialMs * this.opts.factor ** this.attempt);
    this.attempt++;
    return Math.max(this.opts.initialMs / 2, Math.round(ceiling * (0.5 + this.opts.random() / 2)));
  }

  reset(): void {
    this.attempt = 0;
  }

  get attempts(): number {
    return this.attempt;
  }
}
