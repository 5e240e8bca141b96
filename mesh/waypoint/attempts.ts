// A forwarded request's attempts: one, or with an HTTPRoute retry up to 1 + attempts, as Istio applies
// the Gateway API's retry (retryOn connect-failure, refused-stream, unavailable, cancelled and the
// route's status codes; exponential backoff from the route's, capped at ten times it). An attempt that
// may still be retried holds its answer back (RetryGate) until its status is known not to be retriable;
// a retriable one is cancelled and the request goes to an endpoint picked again. Timeouts as Istio sets
// them: with retries, backendRequest bounds each attempt and request the whole; without, the smaller.
import type { RouteRetry } from "../proxy/index.ts";
import type { Downstream, HeaderValues } from "./downstream.ts";
import type { Forwarded } from "./forward-request.ts";
import type { UpstreamTarget } from "./upstream.ts";

export interface AttemptOptions {
  /** Undefined: no retries (none configured, or the request has a body, which is streamed, not kept). */
  retry: RouteRetry | undefined;
  requestMs: number | undefined;
  backendRequestMs: number | undefined;
}

export interface AttemptDeps {
  /** Starts one attempt; returns what cancels it (then its `done` is not called). */
  forward: (target: UpstreamTarget, down: Downstream, done: (f: Forwarded) => void) => () => void;
  /** An endpoint for the next attempt, from the config in force then; undefined: none is healthy. */
  retarget: () => UpstreamTarget | undefined;
}

export interface AttemptsOutcome {
  /** The last attempt's outcome; `retries` attempts came before it. */
  done: (f: Forwarded, retries: number) => void;
  /** A timeout fired (request, or an attempt's with no retry left): nothing more is forwarded. */
  timedOut: (ms: number) => void;
}

// gRPC statuses Istio's retryOn names: CANCELLED (1), UNAVAILABLE (14).
const RETRIED_GRPC = new Set(["1", "14"]);

/** Whether an answer is one the route retries. */
export function retriableAnswer(retry: RouteRetry, status: number, headers: HeaderValues): boolean {
  if (retry.codes.includes(status)) return true;
  const grpc = headers["grpc-status"];
  return typeof grpc === "string" && RETRIED_GRPC.has(grpc);
}

/** The wait before retry `n` (1-based). */
export function backoffMs(retry: RouteRetry, n: number): number {
  return Math.min(retry.backoffMs * 2 ** (n - 1), retry.backoffMs * 10);
}

export function runAttempts(first: UpstreamTarget, down: Downstream, deps: AttemptDeps, o: AttemptOptions, out: AttemptsOutcome): void {
  new Attempts(down, deps, o, out).start(first);
}

class Attempts {
  private readonly down: Downstream;
  private readonly deps: AttemptDeps;
  private readonly o: AttemptOptions;
  private readonly out: AttemptsOutcome;
  private over = false;
  private retries = 0;
  private cancel: () => void = () => undefined;
  private requestTimer: NodeJS.Timeout | undefined;
  private tryTimer: NodeJS.Timeout | undefined;
  private waitTimer: NodeJS.Timeout | undefined;

  constructor(down: Downstream, deps: AttemptDeps, o: AttemptOptions, out: AttemptsOutcome) {
    this.down = down;
    this.deps = deps;
    this.o = o;
    this.out = out;
  }

  start(target: UpstreamTarget): void {
    const whole = this.o.retry ? this.o.requestMs : Math.min(this.o.requestMs ?? Infinity, this.o.backendRequestMs ?? Infinity);
    this.attempt(target);
    if (whole !== undefined && whole !== Infinity && !this.over) this.requestTimer = setTimeout(() => this.timeout(whole), whole);
  }

  private attempt(target: UpstreamTarget): void {
    const retry = this.o.retry;
    const tryMs = retry ? this.o.backendRequestMs : undefined;
    if (!retry || this.retries >= retry.attempts) {
      // The last attempt: its answer goes straight to the client.
      this.cancel = this.deps.forward(target, this.down, (f) => this.finish(f));
      if (tryMs) this.tryTimer = setTimeout(() => this.timeout(tryMs), tryMs);
      return;
    }
    let dropped = false;
    const again = () => {
      if (dropped || this.over) return;
      dropped = true;
      clearTimeout(this.tryTimer);
      this.cancel();
      this.retries++;
      this.waitTimer = setTimeout(() => this.next(), backoffMs(retry, this.retries));
    };
    const gate = new RetryGate(this.down, (status, headers) => retriableAnswer(retry, status, headers), again);
    this.cancel = this.deps.forward(target, gate, (f) => {
      if (dropped) return;
      // Connection failures and refused streams are retried (Istio's connect-failure, refused-stream).
      if (f.local && f.flag === "UF") return again();
      this.finish(f);
    });
    // A per-attempt timeout is retried when the route retries 504s (Envoy answers it as one).
    if (tryMs) this.tryTimer = setTimeout(() => (retry.codes.includes(504) ? again() : this.timeout(tryMs)), tryMs);
  }

  private next(): void {
    if (this.over) return;
    const t = this.deps.retarget();
    if (t) return this.attempt(t);
    this.finish({ code: 503, flag: "UH", detail: "no healthy endpoint left to retry on", bytes: 0, local: true });
  }

  private finish(f: Forwarded): void {
    if (this.over) return;
    this.over = true;
    this.clearTimers();
    this.out.done(f, this.retries);
  }

  private timeout(ms: number): void {
    if (this.over) return;
    this.over = true;
    this.clearTimers();
    this.cancel();
    this.out.timedOut(ms);
  }

  private clearTimers(): void {
    clearTimeout(this.requestTimer);
    clearTimeout(this.tryTimer);
    clearTimeout(this.waitTimer);
  }
}

/**
 * The client, for an attempt that may be retried: a retriable status is not passed on (`onRetriable`
 * runs instead and everything after it is dropped); any other answer goes through unchanged.
 */
class RetryGate implements Downstream {
  private readonly down: Downstream;
  private readonly retriable: (status: number, headers: HeaderValues) => boolean;
  private readonly onRetriable: () => void;
  private dropping = false;

  constructor(down: Downstream, retriable: (status: number, headers: HeaderValues) => boolean, onRetriable: () => void) {
    this.down = down;
    this.retriable = retriable;
    this.onRetriable = onRetriable;
  }

  get version(): Downstream["version"] {
    return this.down.version;
  }

  get headersSent(): boolean {
    return this.dropping || this.down.headersSent;
  }

  respond(status: number, headers: HeaderValues, end?: boolean): void {
    if (this.retriable(status, headers)) {
      this.dropping = true;
      this.onRetriable();
      return;
    }
    this.down.respond(status, headers, end);
  }

  write(chunk: Uint8Array): boolean {
    return this.dropping ? true : this.down.write(chunk);
  }

  end(trailers?: HeaderValues): void {
    if (!this.dropping) this.down.end(trailers);
  }

  abort(): void {
    if (!this.dropping) this.down.abort();
  }

  onDrain(cb: () => void): void {
    this.down.onDrain(cb);
  }

  onGone(cb: () => void): void {
    this.down.onGone(cb);
  }
}
