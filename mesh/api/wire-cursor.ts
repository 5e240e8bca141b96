// A cursor over protobuf wire bytes with the same rules as @bufbuild/protobuf's BinaryReader (varints,
// tags, skipping, bounds, strict UTF-8), made for a proxy's first sync, which reads every workload of the
// cluster at once. BinaryReader allocates on every step: a DataView per reader, an array per tag, an array
// of char codes per ASCII string; with the ztunnel image's 2 MB young generation, that garbage made
// collection 45 % of a sync (issue 13). This cursor allocates nothing but the strings it returns, reads a
// nested message in place (a range of the same buffer, no subarray), and returns repeated short ASCII
// strings (namespaces, nodes, service keys, type URLs) from a small intern table without decoding them.
// wire-read.test.ts holds everything read through it equal to fromBinary, on valid and corrupted bytes.

import { WireType } from "@bufbuild/protobuf/wire";

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Node's decoders behind Buffer#toString, which take any Uint8Array as `this`: a string straight from a
 * range of the bytes, without a Buffer view of them. A view per cursor was an object per resource read
 * (12,500 in a first sync) and a function V8 had to optimize during it (issue 13).
 */
type Slice = (this: Uint8Array, start: number, end: number) => string;
const { utf8Slice, latin1Slice } = Buffer.prototype as unknown as { utf8Slice: Slice; latin1Slice: Slice };

/** Interned strings by a hash of their bytes; cleared when full, so it stays bounded whatever a peer sends. */
const INTERN_MAX_ENTRIES = 4096;
const INTERN_MAX_LENGTH = 64;
const interned = new Map<number, string>();

/** How many strings the intern table holds (for tests: it never passes INTERN_MAX_ENTRIES). */
export function internTableSize(): number {
  return interned.size;
}
export { INTERN_MAX_ENTRIES };

export class WireCursor {
  readonly buf: Uint8Array;
  pos: number;
  /** Reads must not pass this position (the end of the message being read). */
  len: number;

  constructor(buf: Uint8Array, pos = 0, len = buf.length) {
    this.buf = buf;
    this.pos = pos;
    this.len = len;
  }

  private bounds(): void {
    if (this.pos > this.len) throw new RangeError("premature EOF");
  }

  /** An unsigned 32-bit varint (up to 10 bytes, the high bits dropped), as BinaryReader.uint32. */
  uint32(): number {
    let b = this.byte();
    if ((b & 0x80) === 0) return this.done(b);
    let result = b & 0x7f;
    b = this.byte();
    result |= (b & 0x7f) << 7;
    if ((b & 0x80) === 0) return this.done(result);
    b = this.byte();
    result |= (b & 0x7f) << 14;
    if ((b & 0x80) === 0) return this.done(result);
    b = this.byte();
    result |= (b & 0x7f) << 21;
    if ((b & 0x80) === 0) return this.done(result);
    b = this.byte();
    result |= (b & 0x0f) << 28;
    for (let n = 5; (b & 0x80) !== 0 && n < 10; n++) b = this.byte();
    if ((b & 0x80) !== 0) throw new Error("invalid varint");
    return this.done(result >>> 0);
  }

  /** The next byte; past the end, 0 (and the read fails its bounds check), as BinaryReader reads undefined. */
  private byte(): number {
    return this.pos < this.len ? this.buf[this.pos++]! : (this.pos++, 0);
  }

  private done(v: number): number {
    this.bounds();
    return v;
  }

  int32(): number {
    return this.uint32() | 0;
  }

  /** A tag as one number (field number << 3 | wire type), checked as BinaryReader.tag checks it. */
  tag(): number {
    const start = this.pos;
    const tag = this.uint32();
    const read = this.pos - start;
    if (read > 5 || (read === 5 && this.buf[this.pos - 1]! > 0x0f)) throw new Error("illegal tag: varint overflows uint32");
    const no = tag >>> 3;
    const wireType = tag & 7;
    if (no <= 0 || wireType > 5) throw new Error(`illegal tag: field no ${no} wire type ${wireType}`);
    return tag;
  }

  bool(): boolean {
    // Any set bit in up to 10 bytes is true (BinaryReader reads it as a 64-bit varint).
    let any = false;
    for (let n = 0; n < 10; n++) {
      const b = this.byte();
      if ((b & 0x7f) !== 0 && n < 9) any = true;
      else if (n === 9 && (b & 0x01) !== 0) any = true;
      if ((b & 0x80) === 0) {
        this.bounds();
        return any;
      }
    }
    throw new Error("invalid varint");
  }

  /** Skips one value of `wireType`; groups nest at most `recursionLimit` deep. */
  skip(wireType: number, fieldNo: number, recursionLimit: number): void {
    switch (wireType) {
      case WireType.Varint:
        while (this.byte() & 0x80) {
          // a continuation byte
        }
        break;
      case WireType.Bit64:
        this.pos += 8;
        break;
      case WireType.Bit32:
        this.pos += 4;
        break;
      case WireType.LengthDelimited: {
        const len = this.uint32();
        this.pos += len;
        break;
      }
      case WireType.StartGroup:
        if (recursionLimit <= 0) throw new Error("maximum recursion depth reached");
        for (;;) {
          const t = this.tag();
          if ((t & 7) === WireType.EndGroup) {
            if (t >>> 3 !== fieldNo) throw new Error("invalid end group tag");
            break;
          }
          this.skip(t & 7, t >>> 3, recursionLimit - 1);
        }
        break;
      default:
        throw new Error(`cant skip wire type ${wireType}`);
    }
    this.bounds();
  }

  /** A length-delimited value's length; the caller reads `pos .. pos + length`. */
  length(): number {
    const len = this.uint32();
    if (this.pos + len > this.len) {
      this.pos += len;
      this.bounds();
    }
    return len;
  }

  /** A length-delimited value as a view of the buffer. */
  bytes(): Uint8Array {
    const len = this.length();
    const start = this.pos;
    this.pos += len;
    return this.buf.subarray(start, start + len);
  }

  /**
   * A strict UTF-8 string. `intern` is for fields whose values repeat across resources: a short ASCII
   * value already seen comes from the intern table, not decoded again.
   */
  string(intern = false): string {
    const len = this.length();
    const start = this.pos;
    const end = start + len;
    this.pos = end;
    const buf = this.buf;
    if (!intern || len > INTERN_MAX_LENGTH) return this.utf8(start, end);
    let hash = 0x811c9dc5;
    for (let i = start; i < end; i++) {
      const b = buf[i]!;
      if (b > 0x7f) return strictUtf8.decode(buf.subarray(start, end));
      hash = Math.imul(hash ^ b, 0x01000193);
    }
    const key = (hash ^ len) >>> 0;
    const known = interned.get(key);
    if (known !== undefined && known.length === len && sameAscii(known, buf, start)) return known;
    const s = this.ascii(start, end);
    if (interned.size >= INTERN_MAX_ENTRIES) interned.clear();
    interned.set(key, s);
    return s;
  }

  /**
   * Passes over a string, checked as `string` checks it (strict UTF-8) but not built; returns its length
   * in bytes. For fields read later, on first use (lazy-workload.ts): a proxy must refuse a bad resource
   * when it arrives, and most of a cluster's workloads are never looked at by a given proxy.
   */
  checkString(): number {
    const len = this.length();
    const start = this.pos;
    const end = start + len;
    this.pos = end;
    const buf = this.buf;
    for (let i = start; i < end; i++) {
      if (buf[i]! > 0x7f) {
        strictUtf8.decode(buf.subarray(start, end));
        break;
      }
    }
    return len;
  }

  /** True if the next length-delimited value holds exactly the ASCII string `s` (read only if so). */
  stringEquals(s: string): boolean {
    const save = this.pos;
    const len = this.length();
    if (len === s.length && sameAscii(s, this.buf, this.pos)) {
      this.pos += len;
      return true;
    }
    this.pos = save;
    return false;
  }

  /**
   * Node's UTF-8 decoder (the same work as latin1 for ASCII, and no loop over the bytes in JavaScript: that
   * loop was a seventh of a first sync); it replaces what is not UTF-8 with U+FFFD, so a result holding one
   * is decoded again strictly, which throws unless the bytes really spell U+FFFD.
   */
  private utf8(start: number, end: number): string {
    if (end === start) return "";
    const s = utf8Slice.call(this.buf, start, end);
    return s.includes("\ufffd") ? strictUtf8.decode(this.buf.subarray(start, end)) : s;
  }

  private ascii(start: number, end: number): string {
    if (end === start) return "";
    return latin1Slice.call(this.buf, start, end);
  }
}

/** True if the bytes at `at` are ASCII and spell `s` (a non-ASCII byte is never equal: UTF-8 must decode it). */
function sameAscii(s: string, buf: Uint8Array, at: number): boolean {
  for (let i = 0; i < s.length; i++) {
    const b = buf[at + i]!;
    if (b > 0x7f || s.charCodeAt(i) !== b) return false;
  }
  return true;
}
