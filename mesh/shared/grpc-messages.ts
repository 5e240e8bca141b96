// gRPC's length-prefixed messages as they arrive over HTTP/2 in pieces, for both ends of the config
// stream (the control plane's handler, control-plane/grpc-stream.ts, and the proxies' client,
// proxy/xds/stream-client.ts). A message is held only until it is complete, and its length is checked
// against the bound from its 5-byte prefix, before any of it is buffered.
import { Code, ConnectError } from "@connectrpc/connect";

/**
 * Splits a gRPC body (either way) into its length-prefixed messages. Returns an error for a message that is
 * compressed or larger than `max`; otherwise the complete messages so far.
 */
export class MessageReader {
  private readonly max: number;
  private readonly what: string;
  private parts: Buffer[] = [];
  private buffered = 0;

  /** `what` names the messages in errors ("request", "response"). */
  constructor(max: number, what = "request") {
    this.max = max;
    this.what = what;
  }

  /** Bytes held for an incomplete message. */
  get pending(): number {
    return this.buffered;
  }

  push(chunk: Buffer): Uint8Array[] | { error: ConnectError } {
    this.parts.push(chunk);
    this.buffered += chunk.length;
    const out: Uint8Array[] = [];
    for (;;) {
      if (this.buffered < 5) return out;
      const head = this.parts[0]!.length >= 5 ? this.parts[0]! : this.join();
      if (head[0]! & 1) return { error: new ConnectError("a compressed message without grpc-encoding", Code.Internal) };
      const length = head.readUInt32BE(1);
      if (length > this.max) return { error: new ConnectError(`${this.what} message larger than ${this.max} bytes`, Code.ResourceExhausted) };
      if (this.buffered < 5 + length) return out;
      const all = this.parts.length === 1 ? this.parts[0]! : this.join();
      out.push(all.subarray(5, 5 + length));
      const rest = all.subarray(5 + length);
      this.parts = rest.length ? [rest] : [];
      this.buffered = rest.length;
    }
  }

  private join(): Buffer {
    const all = Buffer.concat(this.parts, this.buffered);
    this.parts = [all];
    return all;
  }
}
