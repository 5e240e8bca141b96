// One HTTP/2 stream of an H2Connection, as HBONE uses it: a CONNECT tunnel carrying bytes both ways.
// Not a node:stream Duplex on purpose: the relay moves chunks straight between a TCP socket and the
// stream, and flow control is end to end (the receive window is returned only when the consumer says
// it has passed the bytes on, so a slow destination slows the sender instead of growing a buffer here).
import { ErrorCode } from "./frames.ts";

export interface StreamSink {
  /** Bytes of DATA in order. Call `consumed(n)` once they are passed on (written to the destination). */
  data(chunk: Buffer): void;
  /** The peer ended its side (END_STREAM): a TCP half-close. */
  end(): void;
  /** The stream is over: reset by either side, or the connection failed. `code` null when it ended cleanly both ways. */
  close(code: ErrorCode | null, reason?: Error): void;
}

/** What a stream needs of its connection (connection.ts). */
export interface StreamOwner {
  sendData(stream: H2Stream): void;
  sendHeaders(stream: H2Stream, headers: ReadonlyArray<readonly [string, string]>, endStream: boolean): void;
  sendReset(stream: H2Stream, code: ErrorCode): void;
  returnWindow(stream: H2Stream, bytes: number): void;
  closed(stream: H2Stream): void;
}

interface Pending {
  chunk: Buffer;
  offset: number;
  cb: (() => void) | undefined;
}

export class H2Stream {
  readonly id: number;
  /** The peer's window for what we send on this stream. */
  sendWindow: number;
  /** Our window for what the peer sends, as last advertised minus what arrived. */
  recvWindow: number;
  /** Bytes passed on by the consumer and not yet returned to the peer. */
  unreturned = 0;
  /** Bytes delivered to the consumer and not yet passed on (returned to the connection if the stream closes). */
  held = 0;
  localEnded = false;
  remoteEnded = false;
  isClosed = false;
  /** Queued DATA not yet framed (the send windows were exhausted), in order. */
  readonly queue: Pending[] = [];
  queuedBytes = 0;
  /** Set once the queue fell below the high-water mark after write() returned false. */
  onDrain: (() => void) | undefined;
  private sink: StreamSink | undefined;
  /** What arrived before a sink was attached (a CONNECT's first bytes may follow its 200 in one read). */
  private early: Buffer[] = [];
  private earlyEnd = false;
  private readonly closeHooks: Array<(code: ErrorCode | null) => void> = [];
  /** Request or response headers, once received. */
  headers: Array<[string, string]> | undefined;
  /** Client: the response's status and headers (a final one, not 1xx). */
  onResponse: ((status: number, headers: Array<[string, string]>) => void) | undefined;
  private readonly owner: StreamOwner;
  private readonly highWater: number;

  constructor(id: number, owner: StreamOwner, sendWindow: number, recvWindow: number, highWater: number) {
    this.id = id;
    this.owner = owner;
    this.sendWindow = sendWindow;
    this.recvWindow = recvWindow;
    this.highWater = highWater;
  }

  /** Where received bytes go from now on; what came before is handed over first, in order. */
  attach(sink: StreamSink): void {
    this.sink = sink;
    for (const c of this.early.splice(0)) sink.data(c);
    if (this.earlyEnd) sink.end();
    if (this.isClosed) sink.close(this.closeCode, this.closeReason);
  }

  /** Runs `hook` once the stream is over (at once if it is). */
  whenClosed(hook: (code: ErrorCode | null) => void): void {
    if (this.isClosed) hook(this.closeCode);
    else this.closeHooks.push(hook);
  }

  /** Called by the connection: DATA arrived. */
  deliverData(chunk: Buffer): void {
    if (this.sink) this.sink.data(chunk);
    else this.early.push(chunk);
  }

  /** Called by the connection: the peer ended its side. */
  deliverEnd(): void {
    if (this.sink) this.sink.end();
    else this.earlyEnd = true;
  }

  private closeCode: ErrorCode | null = null;
  private closeReason: Error | undefined;

  /**
   * Queues bytes to send as DATA; `cb` runs once they are handed to the socket (so a pooled read buffer
   * can be reused). Returns false when the queue is above the high-water mark: wait for `onDrain`.
   */
  write(chunk: Buffer, cb?: () => void): boolean {
    if (this.localEnded || this.isClosed) {
      cb?.();
      return false;
    }
    if (chunk.length === 0) {
      cb?.();
      return true;
    }
    this.queue.push({ chunk, offset: 0, cb });
    this.queuedBytes += chunk.length;
    this.owner.sendData(this);
    return this.queuedBytes < this.highWater;
  }

  /** Ends our side (END_STREAM after what is queued): a TCP half-close. */
  end(): void {
    if (this.localEnded || this.isClosed) return;
    this.localEnded = true;
    this.owner.sendData(this);
  }

  /** Server side: answers the CONNECT. A status other than 200 ends the stream. */
  respond(status: number, headers: ReadonlyArray<readonly [string, string]> = []): void {
    if (this.isClosed) return;
    const end = status !== 200;
    this.owner.sendHeaders(this, [[":status", String(status)], ...headers], end);
    if (end) this.localEnded = true;
  }

  /** Tells the connection `n` received bytes were passed on: their window goes back to the peer. */
  consumed(n: number): void {
    if (this.isClosed) return;
    this.owner.returnWindow(this, n);
  }

  /** Aborts the stream (RST_STREAM): a TCP reset. */
  reset(code: ErrorCode = ErrorCode.Cancel): void {
    if (this.isClosed) return;
    this.owner.sendReset(this, code);
    this.finish(code);
  }

  /** Called by the connection: the stream is over. Runs every queued callback so pooled buffers return. */
  finish(code: ErrorCode | null, reason?: Error): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.closeCode = code;
    this.closeReason = reason;
    for (const p of this.queue.splice(0)) p.cb?.();
    this.queuedBytes = 0;
    this.owner.closed(this);
    this.sink?.close(code, reason);
    for (const h of this.closeHooks.splice(0)) h(code);
  }

  /** Called by the connection as it frames queued bytes. */
  takeQueued(max: number): { bytes: Buffer; cb: (() => void) | undefined } | undefined {
    const head = this.queue[0];
    if (!head) return undefined;
    const n = Math.min(max, head.chunk.length - head.offset);
    const bytes = head.offset === 0 && n === head.chunk.length ? head.chunk : head.chunk.subarray(head.offset, head.offset + n);
    head.offset += n;
    this.queuedBytes -= n;
    let cb: (() => void) | undefined;
    if (head.offset === head.chunk.length) {
      this.queue.shift();
      cb = head.cb;
    }
    if (this.onDrain && this.queuedBytes < this.highWater) {
      const d = this.onDrain;
      this.onDrain = undefined;
      queueMicrotask(d);
    }
    return { bytes, cb };
  }
}
