// The DER subset the CA needs on its hot path: read a TLV strictly (definite lengths in their shortest
// form, bounds checked, nothing read past its parent), encode one, and object identifiers.
// Why not an ASN.1 library here: @peculiar/asn1-schema builds and walks class instances per field and was
// ~3 ms of a certificate's 3.1 (issue 13); the CA reads a CSR and writes a certificate from byte
// templates instead. Everything that is read from a peer goes through `readTlv`, which throws only
// DerError (fuzzed in der.test.ts).

export class DerError extends Error {
  override readonly name = "DerError";
}

export interface Tlv {
  tag: number;
  /** The value's bytes (a view into the input). */
  value: Buffer;
  /** The whole element, tag and length included (a view into the input). */
  raw: Buffer;
  /** Offset just past this element in the input. */
  end: number;
}

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** Reads the element at `offset` of `buf`, which must end by `limit` (default: the buffer's end). */
export function readTlv(buf: Buffer, offset = 0, limit = buf.length): Tlv {
  if (offset + 2 > limit) throw new DerError(`truncated element at ${offset}`);
  const tag = buf[offset]!;
  // High-tag-number form (tag 31+) never occurs in the structures the CA reads.
  if ((tag & 0x1f) === 0x1f) throw new DerError(`multi-byte tag at ${offset}`);
  let len = buf[offset + 1]!;
  let start = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0) throw new DerError(`indefinite length at ${offset} (BER, not DER)`);
    if (n > 3) throw new DerError(`length of ${n} bytes at ${offset}`);
    if (start + n > limit) throw new DerError(`truncated length at ${offset}`);
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[start + i]!;
    if (len < 0x80 || buf[start] === 0) throw new DerError(`length not in its shortest form at ${offset}`);
    start += n;
  }
  const end = start + len;
  if (end > limit) throw new DerError(`element at ${offset} runs past its container (${len} bytes)`);
  return { tag, value: buf.subarray(start, end), raw: buf.subarray(offset, end), end };
}

/** Reads an element that must have `tag`. */
export function expectTlv(buf: Buffer, offset: number, tag: number, what: string, limit = buf.length): Tlv {
  const t = readTlv(buf, offset, limit);
  if (t.tag !== tag) throw new DerError(`${what}: expected tag 0x${tag.toString(16)}, found 0x${t.tag.toString(16)}`);
  return t;
}

/** The elements inside a constructed value, in order. */
export function children(value: Buffer): Tlv[] {
  const out: Tlv[] = [];
  for (let at = 0; at < value.length; ) {
    const t = readTlv(value, at);
    out.push(t);
    at = t.end;
  }
  return out;
}

function lengthBytes(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** Encodes one element from its tag and value parts. */
export function tlv(tag: number, ...parts: Uint8Array[]): Buffer {
  const len = parts.reduce((a, p) => a + p.length, 0);
  return Buffer.concat([Buffer.from([tag]), lengthBytes(len), ...parts]);
}

export function decodeOid(value: Buffer): string {
  if (value.length === 0 || value.length > 64) throw new DerError(`object identifier of ${value.length} bytes`);
  if (value[value.length - 1]! & 0x80) throw new DerError("object identifier ends inside an arc");
  const arcs: number[] = [];
  let v = 0;
  for (let i = 0; i < value.length; i++) {
    const b = value[i]!;
    if (v === 0 && b === 0x80) throw new DerError("object identifier arc with a leading zero");
    v = v * 128 + (b & 0x7f);
    if (v > Number.MAX_SAFE_INTEGER / 128) throw new DerError("object identifier arc too large");
    if (!(b & 0x80)) {
      arcs.push(v);
      v = 0;
    }
  }
  const first = arcs[0]!;
  const head = first < 40 ? [0, first] : first < 80 ? [1, first - 40] : [2, first - 80];
  return [...head, ...arcs.slice(1)].join(".");
}

export function encodeOid(oid: string): Buffer {
  const arcs = oid.split(".").map(Number);
  if (arcs.length < 2 || arcs.some((a) => !Number.isSafeInteger(a) || a < 0)) throw new DerError(`not an object identifier: ${oid}`);
  const out: number[] = [];
  for (const arc of [arcs[0]! * 40 + arcs[1]!, ...arcs.slice(2)]) {
    const bytes = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) bytes.unshift((v & 0x7f) | 0x80);
    out.push(...bytes);
  }
  return tlv(TAG.OID, Buffer.from(out));
}

/** RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050, both in UTC to the second. */
export function encodeTime(d: Date): Buffer {
  const iso = d.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = iso.slice(0, 19).replace(/[-T:]/g, "");
  const year = d.getUTCFullYear();
  return year < 2050 ? tlv(TAG.UTC_TIME, Buffer.from(`${digits.slice(2)}Z`, "latin1")) : tlv(TAG.GENERALIZED_TIME, Buffer.from(`${digits}Z`, "latin1"));
}
