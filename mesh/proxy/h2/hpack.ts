// HPACK (RFC 7541) for the HBONE subset of HTTP/2: a complete decoder (every representation, Huffman,
// the dynamic table and its size updates), since a peer may use any of them, and a stateless encoder
// (literals without indexing, names from the static table, dynamic table size 0), which every decoder
// accepts and which keeps no per-connection state on our side. Every bound is explicit: a peer cannot
// make the decoder allocate beyond the header list limit or loop on a malformed integer.
import { HUFFMAN_CODES, HUFFMAN_LENGTHS, STATIC_TABLE } from "./hpack-tables.ts";

/** A header block that violates RFC 7541: a connection error (COMPRESSION_ERROR) in HTTP/2. */
export class HpackError extends Error {
  override name = "HpackError";
}

/** The decoded block was valid but larger than the advertised header list limit (a stream error). */
export class HeaderListTooLarge extends Error {
  override name = "HeaderListTooLarge";
}

export type HeaderList = Array<[string, string]>;

/** A header list by name, the first of a repeated name winning: what a CONNECT's checks read. */
export function headerMap(list: HeaderList): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [n, v] of list) if (!(n in out)) out[n] = v;
  return out;
}

// The Huffman decoding trie: node n's children are at TRIE[2n] (bit 0) and TRIE[2n+1] (bit 1);
// a value >= 0x8000 is a leaf holding symbol (value - 0x8000); 0 is "no child" (the root is never a child).
const LEAF = 0x8000;
const EOS = 256;
const TRIE = buildTrie();

function buildTrie(): Int32Array {
  const trie = new Int32Array(2 * 512);
  let next = 1;
  for (let sym = 0; sym <= EOS; sym++) {
    const code = HUFFMAN_CODES[sym]!;
    const len = HUFFMAN_LENGTHS[sym]!;
    let node = 0;
    for (let i = len - 1; i >= 0; i--) {
      const slot = 2 * node + ((code >>> i) & 1);
      if (i === 0) trie[slot] = LEAF + sym;
      else {
        if (trie[slot] === 0) trie[slot] = next++;
        node = trie[slot]!;
      }
    }
  }
  return trie;
}

export function huffmanDecode(src: Uint8Array): string {
  let out = "";
  let node = 0;
  // Bits walked since the last symbol, and whether they were all ones: the only valid padding is a
  // prefix of EOS (all ones) shorter than 8 bits (RFC 7541 5.2).
  let pending = 0;
  let ones = true;
  for (let i = 0; i < src.length; i++) {
    const byte = src[i]!;
    for (let b = 7; b >= 0; b--) {
      const bit = (byte >>> b) & 1;
      const v = TRIE[2 * node + bit]!;
      pending++;
      ones &&= bit === 1;
      if (v >= LEAF) {
        const sym = v - LEAF;
        if (sym === EOS) throw new HpackError("Huffman-coded string holds EOS");
        out += String.fromCharCode(sym);
        node = 0;
        pending = 0;
        ones = true;
      } else if (v === 0) throw new HpackError("invalid Huffman code");
      else node = v;
    }
  }
  if (pending > 7) throw new HpackError("Huffman padding longer than 7 bits");
  if (!ones) throw new HpackError("Huffman padding is not a prefix of EOS");
  return out;
}

export function huffmanEncode(s: string): Uint8Array {
  let bits = 0;
  for (let i = 0; i < s.length; i++) bits += HUFFMAN_LENGTHS[s.charCodeAt(i) & 0xff]!;
  const out = new Uint8Array(Math.ceil(bits / 8));
  let acc = 0;
  let accBits = 0;
  let o = 0;
  for (let i = 0; i < s.length; i++) {
    const sym = s.charCodeAt(i) & 0xff;
    let len = HUFFMAN_LENGTHS[sym]!;
    const code = HUFFMAN_CODES[sym]!;
    // Codes are up to 30 bits: feed them in pieces of at most 8 so `acc` stays small.
    while (len > 0) {
      const take = Math.min(len, 8);
      acc = (acc << take) | ((code >>> (len - take)) & ((1 << take) - 1));
      accBits += take;
      len -= take;
      while (accBits >= 8) {
        out[o++] = (acc >>> (accBits - 8)) & 0xff;
        accBits -= 8;
        acc &= (1 << accBits) - 1;
      }
    }
  }
  if (accBits > 0) out[o++] = ((acc << (8 - accBits)) | ((1 << (8 - accBits)) - 1)) & 0xff;
  return out;
}

/** HPACK's per-entry overhead (RFC 7541 4.1). */
const ENTRY_OVERHEAD = 32;
/** No integer a conforming peer sends for this subset exceeds this; larger is treated as malformed. */
const MAX_INTEGER = 2 ** 28;

export interface DecoderLimits {
  /** SETTINGS_HEADER_TABLE_SIZE we advertised: the most the peer may grow our dynamic table to. */
  tableSize: number;
  /** SETTINGS_MAX_HEADER_LIST_SIZE we advertised. */
  maxHeaderListSize: number;
}

export class HpackDecoder {
  private readonly entries: Array<[string, string]> = [];
  private size = 0;
  private maxSize: number;
  private readonly limits: DecoderLimits;

  constructor(limits: DecoderLimits) {
    this.limits = limits;
    this.maxSize = limits.tableSize;
  }

  /**
   * Decodes one complete header block. The whole block is always decoded, even past the list limit,
   * so the dynamic table stays in step with the peer's encoder; then the limit is enforced.
   */
  decode(block: Uint8Array): HeaderList {
    const headers: HeaderList = [];
    let listSize = 0;
    let pos = 0;
    let first = true;
    const integer = (prefixBits: number): number => {
      if (pos >= block.length) throw new HpackError("truncated integer");
      const mask = (1 << prefixBits) - 1;
      let v = block[pos++]! & mask;
      if (v < mask) return v;
      let shift = 0;
      for (;;) {
        if (pos >= block.length) throw new HpackError("truncated integer");
        const b = block[pos++]!;
        v += (b & 0x7f) * 2 ** shift;
        if (v > MAX_INTEGER) throw new HpackError("integer too large");
        if ((b & 0x80) === 0) return v;
        shift += 7;
      }
    };
    const string = (): string => {
      if (pos >= block.length) throw new HpackError("truncated string");
      const huffman = (block[pos]! & 0x80) !== 0;
      const len = integer(7);
      if (pos + len > block.length) throw new HpackError("truncated string");
      const raw = block.subarray(pos, pos + len);
      pos += len;
      return huffman ? huffmanDecode(raw) : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString("latin1");
    };
    const emit = (name: string, value: string) => {
      listSize += name.length + value.length + ENTRY_OVERHEAD;
      // Past the limit nothing more is kept (the block is still read to the end for the table's sake).
      if (listSize <= this.limits.maxHeaderListSize) headers.push([name, value]);
    };
    while (pos < block.length) {
      const b = block[pos]!;
      if (b & 0x80) {
        const [name, value] = this.entry(integer(7));
        emit(name, value);
      } else if (b & 0x40) {
        const name = (b & 0x3f) === 0 ? (pos++, string()) : this.entry(integer(6))[0];
        const value = string();
        this.insert(name, value);
        emit(name, value);
      } else if (b & 0x20) {
        // A size update is allowed only at the start of a block (RFC 7541 4.2).
        if (!first) throw new HpackError("dynamic table size update after a header field");
        const size = integer(5);
        if (size > this.limits.tableSize) throw new HpackError(`dynamic table size ${size} above the advertised ${this.limits.tableSize}`);
        this.maxSize = size;
        this.evict(0);
        continue;
      } else {
        // Literal without indexing (0000) or never indexed (0001): both 4-bit prefixes.
        const name = (b & 0x0f) === 0 ? (pos++, string()) : this.entry(integer(4))[0];
        emit(name, string());
      }
      first = false;
    }
    if (listSize > this.limits.maxHeaderListSize) throw new HeaderListTooLarge(`header list of ${listSize} bytes above ${this.limits.maxHeaderListSize}`);
    return headers;
  }

  private entry(index: number): readonly [string, string] {
    if (index === 0) throw new HpackError("header index 0");
    if (index <= STATIC_TABLE.length) return STATIC_TABLE[index - 1]!;
    const e = this.entries[index - STATIC_TABLE.length - 1];
    if (!e) throw new HpackError(`header index ${index} beyond the table`);
    return e;
  }

  private insert(name: string, value: string): void {
    const size = name.length + value.length + ENTRY_OVERHEAD;
    // An entry larger than the table empties it and is not added (RFC 7541 4.4).
    this.evict(size);
    if (size <= this.maxSize) {
      this.entries.unshift([name, value]);
      this.size += size;
    }
  }

  /** Evicts the oldest entries until `room` more bytes fit. */
  private evict(room: number): void {
    while (this.entries.length > 0 && this.size + room > this.maxSize) {
      const [n, v] = this.entries.pop()!;
      this.size -= n.length + v.length + ENTRY_OVERHEAD;
    }
  }
}

const STATIC_NAME_INDEX = new Map<string, number>();
STATIC_TABLE.forEach(([name], i) => {
  if (!STATIC_NAME_INDEX.has(name)) STATIC_NAME_INDEX.set(name, i + 1);
});

/**
 * Encodes header blocks without the dynamic table. The first block (and the first after the peer
 * changes SETTINGS_HEADER_TABLE_SIZE) starts with a size update to 0, so a peer that lowered its table
 * never sees an index it did not expect.
 */
export class HpackEncoder {
  private announce = true;

  /** The peer's SETTINGS_HEADER_TABLE_SIZE changed. */
  tableSizeChanged(): void {
    this.announce = true;
  }

  encode(headers: ReadonlyArray<readonly [string, string]>): Buffer {
    const parts: number[] = [];
    if (this.announce) {
      parts.push(0x20); // size update to 0
      this.announce = false;
    }
    const int = (v: number, prefixBits: number, first: number) => {
      const mask = (1 << prefixBits) - 1;
      if (v < mask) return void parts.push(first | v);
      parts.push(first | mask);
      v -= mask;
      while (v >= 0x80) {
        parts.push((v & 0x7f) | 0x80);
        v = Math.floor(v / 128);
      }
      parts.push(v);
    };
    const str = (s: string) => {
      int(s.length, 7, 0);
      for (let i = 0; i < s.length; i++) parts.push(s.charCodeAt(i) & 0xff);
    };
    for (const [name, value] of headers) {
      const index = STATIC_NAME_INDEX.get(name);
      if (index !== undefined) int(index, 4, 0x00);
      else {
        parts.push(0x00);
        str(name);
      }
      str(value);
    }
    return Buffer.from(parts);
  }
}
