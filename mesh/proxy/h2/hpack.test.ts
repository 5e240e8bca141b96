// HPACK against RFC 7541's own examples (Appendix C) and, both ways, against an independent
// implementation: Debian's python3-hpack (the decoder must read what a full encoder writes, with the
// dynamic table and Huffman; our encoder's blocks must read back there). Plus the bounds a peer hits.
import { spawnSync } from "node:child_process";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { HeaderListTooLarge, HpackDecoder, HpackEncoder, HpackError, huffmanDecode, huffmanEncode } from "./hpack.ts";

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ""), "hex");
const limits = { tableSize: 4096, maxHeaderListSize: 64 * 1024 };
const PYTHON = "/usr/bin/python3";

function python(script: string, input: unknown): unknown {
  const r = spawnSync(PYTHON, ["-c", script], { input: JSON.stringify(input), encoding: "utf8" });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout);
}

describe("HPACK (RFC 7541)", () => {
  it("decodes Appendix C.3: three requests without Huffman, sharing the dynamic table", () => {
    const d = new HpackDecoder(limits);
    expect(d.decode(hex("8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d"))).toEqual([
      [":method", "GET"],
      [":scheme", "http"],
      [":path", "/"],
      [":authority", "www.example.com"],
    ]);
    expect(d.decode(hex("8286 84be 5808 6e6f 2d63 6163 6865"))).toEqual([
      [":method", "GET"],
      [":scheme", "http"],
      [":path", "/"],
      [":authority", "www.example.com"],
      ["cache-control", "no-cache"],
    ]);
    expect(d.decode(hex("8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65"))).toEqual([
      [":method", "GET"],
      [":scheme", "https"],
      [":path", "/index.html"],
      [":authority", "www.example.com"],
      ["custom-key", "custom-value"],
    ]);
  });

  it("decodes Appendix C.4 (Huffman) and C.5's evictions with a 256-byte table", () => {
    const d = new HpackDecoder(limits);
    expect(d.decode(hex("8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff"))[3]).toEqual([":authority", "www.example.com"]);
    expect(huffmanEncode("www.example.com")).toEqual(new Uint8Array(hex("f1e3 c2e5 f23a 6ba0 ab90 f4ff")));
    // C.5: responses with a 256-byte table; the third evicts entries and uses the survivors by index.
    const r = new HpackDecoder({ tableSize: 256, maxHeaderListSize: 64 * 1024 });
    r.decode(
      hex(
        "4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
      ),
    );
    r.decode(hex("4803 3330 37c1 c0bf"));
    const third = r.decode(
      hex(
        "88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d 54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049 5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e 3d31",
      ),
    );
    expect(third).toEqual([
      [":status", "200"],
      ["cache-control", "private"],
      ["date", "Mon, 21 Oct 2013 20:13:22 GMT"],
      ["location", "https://www.example.com"],
      ["content-encoding", "gzip"],
      ["set-cookie", "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1"],
    ]);
  });

  it("reads python3-hpack's blocks (dynamic table, Huffman) and python3-hpack reads ours", () => {
    const header = fc.tuple(
      fc.constantFrom(":authority", "baggage", "forwarded", "traceparent", "x-custom", "user-agent", "cookie"),
      fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 80 }),
    );
    const lists = fc.sample(fc.array(header, { minLength: 1, maxLength: 8 }), { numRuns: 60, seed: 1205 });
    // One python encoder for the whole sequence, so later blocks index entries earlier ones added.
    const theirs = python(
      "import sys, json, hpack\ne = hpack.Encoder()\nprint(json.dumps([e.encode(l, huffman=True).hex() for l in json.load(sys.stdin)]))",
      lists,
    ) as string[];
    const d = new HpackDecoder(limits);
    theirs.forEach((block, i) => expect(d.decode(hex(block)), `block ${i}`).toEqual(lists[i]));
    const e = new HpackEncoder();
    const ours = lists.map((l) => e.encode(l).toString("hex"));
    const back = python(
      "import sys, json, hpack\nd = hpack.Decoder()\nprint(json.dumps([[[n.decode() if isinstance(n, bytes) else n, v.decode() if isinstance(v, bytes) else v] for n, v in d.decode(bytes.fromhex(b))] for b in json.load(sys.stdin)]))",
      ours,
    );
    expect(back).toEqual(lists);
  });

  it("round-trips every byte through Huffman, and rejects EOS, long or non-EOS padding", () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)), maxLength: 64 }), (s) => {
        expect(huffmanDecode(huffmanEncode(s))).toBe(s);
      }),
      { numRuns: 500 },
    );
    expect(() => huffmanDecode(hex("ffffffff"))).toThrow(HpackError); // EOS (30 ones) then padding
    expect(() => huffmanDecode(hex("f1e3 c2e5 f23a 6ba0 ab90 f4ff ff"))).toThrow(/padding/);
    expect(() => huffmanDecode(hex("00"))).toThrow(/padding/); // '0' (00000) then 000: not ones
  });

  it("bounds what a peer can send: indexes, integers, strings, table sizes, list size", () => {
    const bad: Array<[string, RegExp]> = [
      ["80", /index 0/],
      ["be", /beyond the table/],
      ["1f ffffffff0f", /integer too large/],
      ["0f", /truncated/],
      ["00 05 61", /truncated string/],
      ["3fe21f", /above the advertised/], // size update to 4096+
      ["82 20", /size update after a header/],
    ];
    for (const [block, problem] of bad) expect(() => new HpackDecoder(limits).decode(hex(block)), block).toThrow(problem);
    // Too large a list is decoded whole (the table stays in step), then refused as a stream problem.
    const d = new HpackDecoder({ tableSize: 4096, maxHeaderListSize: 100 });
    const big = new HpackEncoder().encode([
      ["x-a", "a".repeat(50)],
      ["x-b", "b".repeat(50)],
    ]);
    expect(() => d.decode(big)).toThrow(HeaderListTooLarge);
    expect(d.decode(hex("82"))).toEqual([[":method", "GET"]]);
  });

  it("never throws anything but HpackError or HeaderListTooLarge on arbitrary bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          new HpackDecoder({ tableSize: 4096, maxHeaderListSize: 4096 }).decode(bytes);
        } catch (err) {
          expect(err instanceof HpackError || err instanceof HeaderListTooLarge, String(err)).toBe(true);
        }
      }),
      { numRuns: 3000 },
    );
  });
});
