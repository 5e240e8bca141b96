// An H2Stream as a node:stream Duplex, for consumers that need one (the waypoint's HTTP client writes
// HTTP/1.1 on an HBONE stream through undici). One stream layer; the relay does not use it.
import { Duplex } from "node:stream";
import { ErrorCode } from "./frames.ts";
import type { H2Stream } from "./stream.ts";

export class H2Duplex extends Duplex {
  private readonly stream: H2Stream;

  constructor(stream: H2Stream) {
    super({ allowHalfOpen: true });
    this.stream = stream;
    stream.attach({
      // The window goes back as the reader takes the bytes: push() false means the reader is behind.
      data: (c) => {
        if (this.push(c)) stream.consumed(c.length);
        else this.unconsumed += c.length;
      },
      end: () => this.push(null),
      close: (code, reason) => {
        if (code !== null) this.destroy(reason ?? new Error(`HBONE stream reset (HTTP/2 error ${code})`));
      },
    });
  }

  private unconsumed = 0;

  override _read(): void {
    if (this.unconsumed > 0) {
      const n = this.unconsumed;
      this.unconsumed = 0;
      this.stream.consumed(n);
    }
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.stream.write(chunk)) return cb();
    this.stream.onDrain = () => cb();
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.stream.end();
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (!this.stream.isClosed) this.stream.reset(err ? ErrorCode.Cancel : ErrorCode.NoError);
    cb(err);
  }
}
