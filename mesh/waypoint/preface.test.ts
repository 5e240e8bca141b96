// Telling HTTP/2 prior knowledge from HTTP/1.1 by the first bytes, and giving those bytes back.
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { HTTP2_PREFACE, prefaceVerdict, sniffHttp2 } from "./preface.ts";

const readAll = (s: PassThrough) => {
  const chunks: Buffer[] = [];
  let c: Buffer | null;
  while ((c = s.read() as Buffer | null) !== null) chunks.push(c);
  return Buffer.concat(chunks).toString("latin1");
};

describe("preface", () => {
  it("decides as soon as the bytes leave the preface, and waits while they are a prefix of it", () => {
    expect(prefaceVerdict(Buffer.from("GET / HTTP/1.1\r\n"))).toBe("HTTP/1.1");
    expect(prefaceVerdict(Buffer.from("PRI * HTTP/1.1"))).toBe("HTTP/1.1");
    expect(prefaceVerdict(Buffer.from("PRI * HTTP/2"))).toBeUndefined();
    expect(prefaceVerdict(Buffer.alloc(0))).toBeUndefined();
    expect(prefaceVerdict(HTTP2_PREFACE)).toBe("HTTP/2");
    expect(prefaceVerdict(Buffer.concat([HTTP2_PREFACE, Buffer.from([0, 0, 0, 4])]))).toBe("HTTP/2");
  });

  it("reads a preface split over chunks and puts every byte back", async () => {
    const s = new PassThrough();
    const verdict = sniffHttp2(s, 1000);
    const rest = Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]);
    s.write(HTTP2_PREFACE.subarray(0, 5));
    await new Promise((r) => setImmediate(r));
    s.write(HTTP2_PREFACE.subarray(5, 20));
    await new Promise((r) => setImmediate(r));
    s.write(Buffer.concat([HTTP2_PREFACE.subarray(20), rest]));
    expect(await verdict).toBe("HTTP/2");
    expect(readAll(s)).toBe(Buffer.concat([HTTP2_PREFACE, rest]).toString("latin1"));
  });

  it("hands an HTTP/1.1 request back whole", async () => {
    const s = new PassThrough();
    const verdict = sniffHttp2(s, 1000);
    s.write("GET /x HTTP/1.1\r\nhost: a\r\n\r\n");
    expect(await verdict).toBe("HTTP/1.1");
    expect(readAll(s)).toBe("GET /x HTTP/1.1\r\nhost: a\r\n\r\n");
  });

  it("gives up on a peer that sends part of the preface and waits, or closes before a byte", async () => {
    const slow = new PassThrough();
    const v = sniffHttp2(slow, 50);
    slow.write(HTTP2_PREFACE.subarray(0, 10));
    await expect(v).rejects.toThrow(/in time/);
    expect(slow.listenerCount("readable")).toBe(0);
    const empty = new PassThrough();
    const e = sniffHttp2(empty, 1000);
    empty.end();
    await expect(e).rejects.toThrow(/closed before/);
  });
});
