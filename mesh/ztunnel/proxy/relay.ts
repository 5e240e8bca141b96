// Copies bytes both ways between the client side and the upstream side, keeping half-closes
// (a FIN on one side ends only that direction) and counting bytes. Never throws: errors end the relay.
import { finished, type Duplex } from "node:stream";
import { pumpPooled, type ReadPools } from "./read-pool.ts";

export interface RelayResult {
  /** Client -> upstream (the request direction). */
  bytesFromClient: number;
  /** Upstream -> client (the response direction). */
  bytesToClient: number;
  error?: Error;
}

export interface Relay {
  done: Promise<RelayResult>;
  /** Ends both sides now (policy change, drain deadline). */
  abort(reason: Error): void;
}

export interface RelayOptions {
  /** Ends the relay when no byte moved either way for this long. */
  idleMs?: number;
  /** Called when the idle timeout ends the relay, before both sides are reset. */
  onIdle?: () => Error;
  /** Where TCP sides read into (read-pool.ts); without it, or for other streams, the sides are piped. */
  pools?: ReadPools;
}

export function relay(client: Duplex, upstream: Duplex, opts: RelayOptions = {}): Relay {
  let fromClient = 0;
  let toClient = 0;
  let firstError: Error | undefined;
  let resolveDone!: (r: RelayResult) => void;
  const done = new Promise<RelayResult>((r) => (resolveDone = r));
  let settled = 0;
  let over = false;

  const end = (side: Duplex) => {
    // An abnormal end is passed on as a TCP reset, so the application sees a failure, not a clean EOF.
    if (firstError && typeof (side as { resetAndDestroy?: unknown }).resetAndDestroy === "function") {
      (side as unknown as { resetAndDestroy(): void }).resetAndDestroy();
    } else side.destroy();
  };
  let idle: NodeJS.Timeout | undefined;
  const finish = () => {
    if (over) return;
    over = true;
    clearTimeout(idle);
    end(client);
    end(upstream);
    resolveDone({ bytesFromClient: fromClient, bytesToClient: toClient, ...(firstError ? { error: firstError } : {}) });
  };
  const onSettled = (err: Error | null | undefined) => {
    if (err && !firstError) {
      firstError =
        (err as NodeJS.ErrnoException).code === "ERR_STREAM_PREMATURE_CLOSE" ? new Error("the other side of the tunnel closed abruptly", { cause: err }) : err;
    }
    if (err) return finish();
    if (++settled === 2) finish();
  };

  if (opts.idleMs && opts.idleMs > 0) {
    idle = setTimeout(() => {
      if (!firstError) firstError = opts.onIdle?.() ?? new Error(`idle for ${opts.idleMs} ms`);
      finish();
    }, opts.idleMs);
    idle.unref();
  }
  // refresh() re-arms the one timer in place: no allocation per chunk.
  const onClientBytes = (n: number) => {
    fromClient += n;
    idle?.refresh();
  };
  const onUpstreamBytes = (n: number) => {
    toClient += n;
    idle?.refresh();
  };
  pump(client, upstream, onClientBytes, opts.pools);
  pump(upstream, client, onUpstreamBytes, opts.pools);
  finished(client, onSettled);
  finished(upstream, onSettled);

  return {
    done,
    abort(reason: Error) {
      if (!firstError) firstError = reason;
      finish();
    },
  };
}

function pump(src: Duplex, dst: Duplex, onBytes: (n: number) => void, pools: ReadPools | undefined): void {
  if (pools && pumpPooled(src, dst, pools, onBytes)) return;
  src.on("data", (c: Buffer) => onBytes(c.length));
  src.pipe(dst);
}
