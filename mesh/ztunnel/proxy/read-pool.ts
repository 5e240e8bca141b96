// Reads a TCP socket into reused buffers instead of a fresh ArrayBuffer per read.
// Why: every fresh read buffer counts as V8 external memory, and each ~64 MB of it starts a full
// mark-compact of the whole heap. In a proxy that has loaded its config, certificate and gRPC code that
// GC was 16 % of ztunnel's CPU during a bulk stream and held it at 0.8 Gbit/s where a bare relay did 2
// (README, Performance). Buffers taken from a pool and given back when their write completes allocate
// nothing per read.
//
// Node offers this (`onread`) to sockets it creates, not to accepted ones; `userBufferFields` sets the
// same three fields Node's net module reads, found by their description. On a Node that renamed them the
// relay falls back to pipe() (read-pool.test.ts fails, so an upgrade cannot lose this silently).
import net from "node:net";

/** What the pump writes to: a node:stream Writable, or an HBONE stream of our own HTTP/2. */
export interface PumpTarget {
  write(chunk: Buffer, cb?: () => void): unknown;
  end(): unknown;
}

/** Free buffers of one size, shared by every connection of a proxy; keeps at most `maxFree`. */
export class BufferPool {
  private readonly free: Buffer[] = [];
  /** Buffers this pool has allocated in its life: flat under steady load when reuse works. */
  allocated = 0;

  readonly size: number;
  readonly maxFree: number;

  constructor(size: number, maxFree: number) {
    this.size = size;
    this.maxFree = maxFree;
  }

  take(): Buffer {
    const b = this.free.pop();
    if (b) return b;
    this.allocated++;
    // Slow: a buffer of its own, never a slice of Node's shared 8 KB pool that other code also writes.
    return Buffer.allocUnsafeSlow(this.size);
  }

  give(b: Buffer): void {
    if (this.free.length < this.maxFree) this.free.push(b);
  }

  get freeCount(): number {
    return this.free.length;
  }
}

export interface ReadPools {
  /** Where every connection starts: an idle keep-alive connection holds one of these. */
  small: BufferPool;
  /** A connection that fills a small buffer moves here for the rest of its life (bulk transfers). */
  large: BufferPool;
  /** Buffers one connection may have in writes not yet completed; then it stops reading (backpressure). */
  maxInFlight: number;
}

/** 4 KB holds a typical request or response; 64 KB is what Node reads at once. At most 4 MB kept free. */
export function defaultReadPools(): ReadPools {
  return { small: new BufferPool(4096, 256), large: new BufferPool(64 * 1024, 64), maxInFlight: 4 };
}

interface UserBufferFields {
  buffer: symbol;
  callback: symbol;
  generator: symbol;
}

let fields: UserBufferFields | null | undefined;

function userBufferFields(s: net.Socket): UserBufferFields | null {
  if (fields !== undefined) return fields;
  const find = (d: string) => Object.getOwnPropertySymbols(s).find((x) => x.description === d);
  const [buffer, callback, generator] = [find("kBuffer"), find("kBufferCb"), find("kBufferGen")];
  fields = buffer && callback && generator ? { buffer, callback, generator } : null;
  return fields;
}

type Handle = { useUserBuffer(b: Uint8Array): void };

/**
 * Pumps `src` into `dst` through pooled buffers until `src` ends (then ends `dst`), counting bytes with
 * `onBytes`. Returns false, having touched nothing, when `src` cannot read into user buffers (not a
 * TCP socket, already closed, or a Node without the fields); the caller pipes instead.
 */
export function pumpPooled(src: unknown, dst: PumpTarget, pools: ReadPools, onBytes: (n: number) => void): boolean {
  if (!(src instanceof net.Socket) || src.destroyed || src.readableEnded) return false;
  const f = userBufferFields(src);
  const handle = (src as unknown as { _handle?: Handle | null })._handle;
  if (!f || !handle || typeof handle.useUserBuffer !== "function") return false;

  // What arrived before the relay began sits in the stream's buffer: it goes first, in order.
  for (let c = src.read() as Buffer | null; c !== null; c = src.read() as Buffer | null) {
    onBytes(c.length);
    dst.write(c);
  }
  let pool = pools.small;
  let current = pool.take();
  // Write callbacks come in write order, so the oldest buffer in flight is the one a callback frees.
  const inFlight: Buffer[] = [];
  let paused = false;
  const written = () => {
    const b = inFlight.shift();
    if (b) (b.length === pools.large.size ? pools.large : pools.small).give(b);
    if (paused && !src.destroyed) {
      paused = false;
      src.resume();
    }
  };
  const fieldsOf = src as unknown as Record<symbol, unknown>;
  fieldsOf[f.buffer] = current;
  fieldsOf[f.callback] = (n: number, buf: Buffer): boolean => {
    onBytes(n);
    // A full buffer means more is waiting: read the rest of this connection in large buffers.
    if (n === buf.length && pool !== pools.large) pool = pools.large;
    inFlight.push(buf);
    dst.write(n === buf.length ? buf : buf.subarray(0, n), written);
    if (inFlight.length < pools.maxInFlight) return true;
    // Node stops reading; `written` resumes. The generator below still hands Node its next buffer,
    // which is not in flight, so nothing is overwritten while paused.
    paused = true;
    return false;
  };
  fieldsOf[f.generator] = () => (current = pool.take());
  handle.useUserBuffer(current);
  src.once("end", () => dst.end());
  // The buffer Node would read into next is not in flight; once the socket is closed nothing reads it.
  src.once("close", () => (current.length === pools.large.size ? pools.large : pools.small).give(current));
  src.resume();
  return true;
}
