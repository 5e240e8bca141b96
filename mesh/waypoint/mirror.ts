// HTTPRoute RequestMirror: a copy of each request goes to the mirror backend and its answer is dropped,
// as Envoy shadows requests (the copy keeps the request's Host with "-shadow" appended, so the
// mirror's logs tell copies apart).
// The client never waits for a mirror and never sees it fail. Bounded: a copy's body is buffered only
// as far as the mirror lags behind the real request (at most MIRROR_BODY_LAG bytes, then that copy is
// dropped), at most MAX_MIRRORS_IN_FLIGHT copies run at once per waypoint (more are skipped, counted),
// and each gets MIRROR_TIMEOUT_MS.
import { PassThrough, type Readable } from "node:stream";
import type { AppProtocol } from "../proxy/index.ts";
import type { Downstream } from "./downstream.ts";
import { forwardHttp1 } from "./forward-http1.ts";
import { forwardHttp2 } from "./forward-http2.ts";
import type { ForwardRequest } from "./forward-request.ts";
import type { H2Upstreams } from "./h2-upstreams.ts";
import type { Upstreams, UpstreamTarget } from "./upstream.ts";

export const MAX_MIRRORS_IN_FLIGHT = 256;
export const MIRROR_BODY_LAG = 256 * 1024;
export const MIRROR_TIMEOUT_MS = 10_000;

export interface MirrorTarget {
  target: UpstreamTarget;
  declared?: AppProtocol;
}

export interface MirrorOutcome {
  /** The mirror's status, 0 when it failed, was dropped or timed out. */
  code: number;
}

/** "host:port" -> "host-shadow:port", as Envoy marks shadowed requests. */
export function shadowAuthority(authority: string): string {
  const colon = authority.lastIndexOf(":");
  return colon > 0 && !authority.endsWith("]") ? `${authority.slice(0, colon)}-shadow${authority.slice(colon)}` : `${authority}-shadow`;
}

/** Sends mirror copies; one per waypoint. */
export class Mirrors {
  private readonly upstreams: Upstreams;
  private readonly h2: H2Upstreams;
  private inFlight = 0;
  /** Copies not sent because MAX_MIRRORS_IN_FLIGHT were already running. */
  skipped = 0;

  constructor(upstreams: Upstreams, h2: H2Upstreams) {
    this.upstreams = upstreams;
    this.h2 = h2;
  }

  get running(): number {
    return this.inFlight;
  }

  /**
   * Starts a copy of `req` (before the real request starts reading its body) to each mirror, speaking
   * the mirror port's declared protocol or `clientProtocol`. `done` reports each copy's outcome (tests).
   */
  send(mirrors: readonly MirrorTarget[], req: ForwardRequest, clientProtocol: "http" | "http2", done?: (o: MirrorOutcome) => void): void {
    for (const m of mirrors) {
      if (this.inFlight >= MAX_MIRRORS_IN_FLIGHT) {
        this.skipped++;
        done?.({ code: 0 });
        continue;
      }
      this.inFlight++;
      const copy: ForwardRequest = {
        ...req,
        authority: shadowAuthority(req.authority),
        headers: { ...req.headers },
        body: req.body ? teeBody(req.body) : null,
      };
      let finished = false;
      const finish = (code: number) => {
        if (finished) return;
        finished = true;
        this.inFlight--;
        clearTimeout(timer);
        copy.body?.destroy();
        done?.({ code });
      };
      const down = new DiscardDownstream(clientProtocol === "http2" ? "HTTP/2" : "HTTP/1.1");
      const speak = m.declared === "http2" || m.declared === "grpc" ? "http2" : m.declared === "http" ? "http" : clientProtocol;
      const cancel =
        speak === "http"
          ? forwardHttp1(this.upstreams, m.target, copy, down, (f) => finish(f.local ? 0 : f.code))
          : forwardHttp2(this.h2, m.target, copy, down, (f) => finish(f.local ? 0 : f.code));
      const timer = setTimeout(() => {
        cancel();
        finish(0);
      }, MIRROR_TIMEOUT_MS);
    }
  }
}

/**
 * A second reader of `body`: every chunk the real request reads is written here too. The real request
 * sets the pace; a copy that falls MIRROR_BODY_LAG behind is cut off (its request then fails, which
 * only the mirror sees).
 */
export function teeBody(body: Readable): Readable {
  const copy = new PassThrough();
  const onData = (c: Buffer) => {
    if (copy.destroyed) return;
    if (copy.writableLength > MIRROR_BODY_LAG) copy.destroy(new Error("mirror fell behind the request body"));
    else copy.write(c);
  };
  const onEnd = () => copy.end();
  const onError = () => copy.destroy(new Error("request body failed"));
  body.on("data", onData);
  body.once("end", onEnd);
  body.once("error", onError);
  copy.once("close", () => {
    body.off("data", onData);
    body.off("end", onEnd);
    body.off("error", onError);
  });
  return copy;
}

/** A client that takes every byte and keeps none: the mirror's answer goes nowhere. */
class DiscardDownstream implements Downstream {
  readonly version: "HTTP/1.1" | "HTTP/2";
  headersSent = false;

  constructor(version: "HTTP/1.1" | "HTTP/2") {
    this.version = version;
  }

  respond(): void {
    this.headersSent = true;
  }

  write(): boolean {
    return true;
  }

  end(): void {}

  abort(): void {}

  onDrain(): void {}

  onGone(): void {}
}
