// The HTTP/2 layer played against an attacker: the frame reader fuzzed (any split of any bytes gives the
// same frames or one typed error), and a raw socket sending what a conforming peer never would. Each
// attack must end in the RFC's answer (RST_STREAM or GOAWAY with the right code) and leave no stream or
// socket behind; afterwards the server still serves an honest client.
import { readdirSync } from "node:fs";
import net from "node:net";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { ConnectionError, ErrorCode, Flag, type Frame, FrameReader, FrameType, frameHeader, PREFACE, rstStreamFrame, settingsFrame } from "./frames.ts";
import { HpackEncoder } from "./hpack.ts";
import { clientConnection, echoServer, pattern, sha256, TEST_SETTINGS, tunnel } from "./testing.ts";

const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const frame = (type: number, flags: number, id: number, payload: Buffer = Buffer.alloc(0)) =>
  Buffer.concat([frameHeader(payload.length, type as FrameType, flags, id), payload]);
const connectBlock = () =>
  new HpackEncoder().encode([
    [":method", "CONNECT"],
    [":authority", "198.18.0.1:80"],
  ]);

/** A raw peer: sends the preface and empty SETTINGS, then whatever the test writes; collects frames. */
async function attacker(port: number): Promise<{ sock: net.Socket; frames: Frame[]; closed: Promise<void> }> {
  const sock = net.connect({ port, host: "127.0.0.1" });
  await new Promise<void>((r, j) => sock.once("connect", r).once("error", j));
  sock.on("error", () => {});
  const frames: Frame[] = [];
  const reader = new FrameReader(16 * 1024 * 1024);
  sock.on("data", (c: Buffer) => reader.push(c, (f) => frames.push({ ...f, payload: Buffer.from(f.payload) })));
  const closed = new Promise<void>((r) => sock.once("close", () => r()));
  sock.write(Buffer.concat([PREFACE, settingsFrame([])]));
  cleanup.push(() => sock.destroy());
  return { sock, frames, closed };
}

const goaway = (frames: Frame[]) => frames.find((f) => f.type === FrameType.Goaway)?.payload.readUInt32BE(4);
const resets = (frames: Frame[], code: ErrorCode) => frames.filter((f) => f.type === FrameType.RstStream && f.payload.readUInt32BE(0) === code).length;

async function stillServes(port: number): Promise<void> {
  const { conn, sock } = await clientConnection(port);
  cleanup.push(() => sock.destroy());
  const data = pattern(200_000);
  expect((await tunnel(conn, data)).sha).toBe(sha256(data));
}

describe("HTTP/2 under attack", () => {
  it("the frame reader gives the same frames however the bytes are split, and only typed errors on garbage", () => {
    const arbFrame = fc.record({
      type: fc.integer({ min: 0, max: 12 }),
      flags: fc.integer({ min: 0, max: 255 }),
      streamId: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
      payload: fc.uint8Array({ maxLength: 300 }),
    });
    fc.assert(
      fc.property(fc.array(arbFrame, { maxLength: 8 }), fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 20 }), (frames, cuts) => {
        const bytes = Buffer.concat(frames.map((f) => frame(f.type, f.flags, f.streamId, Buffer.from(f.payload))));
        const got: Frame[] = [];
        const r = new FrameReader(16_384);
        let pos = 0;
        for (let i = 0; pos < bytes.length; i++) {
          const n = cuts[i % cuts.length]!;
          r.push(bytes.subarray(pos, pos + n), (f) => got.push({ ...f, payload: Buffer.from(f.payload) }));
          pos += n;
        }
        expect(got.map((f) => [f.type, f.flags, f.streamId, f.payload.toString("hex")])).toEqual(
          frames.map((f) => [f.type, f.flags, f.streamId, Buffer.from(f.payload).toString("hex")]),
        );
      }),
      { numRuns: 1000 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (bytes) => {
        try {
          new FrameReader(1000).push(Buffer.from(bytes), () => {});
        } catch (err) {
          expect(err).toBeInstanceOf(ConnectionError);
        }
      }),
      { numRuns: 2000 },
    );
    // Streaming DATA: unpadded DATA payloads come out in pieces, never assembled, in order and whole.
    fc.assert(
      fc.property(fc.array(arbFrame, { maxLength: 8 }), fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 20 }), (frames, cuts) => {
        const bytes = Buffer.concat(frames.map((f) => frame(f.type, f.flags, f.streamId, Buffer.from(f.payload))));
        const got: string[] = [];
        let current: Buffer[] = [];
        const r = new FrameReader(16_384);
        let pos = 0;
        for (let i = 0; pos < bytes.length; i++) {
          const n = cuts[i % cuts.length]!;
          r.push(
            bytes.subarray(pos, pos + n),
            (f) => got.push(`${f.type}:${f.streamId}:${f.payload.toString("hex")}`),
            (d) => {
              expect(d.first).toBe(current.length === 0);
              current.push(Buffer.from(d.part));
              if (d.last) {
                const whole = Buffer.concat(current);
                expect(whole.length).toBe(d.frameLength);
                got.push(`0:${d.streamId}:${whole.toString("hex")}`);
                current = [];
              }
            },
          );
          pos += n;
        }
        expect(got).toEqual(frames.map((f) => `${f.type}:${f.streamId}:${Buffer.from(f.payload).toString("hex")}`));
      }),
      { numRuns: 1000 },
    );
    // A length above what we advertised is refused before anything is allocated for it.
    expect(() => new FrameReader(16_384).push(frameHeader(16_385, FrameType.Data, 0, 1), () => {})).toThrow(/16385 bytes above the 16384/);
  });

  it("random frames after a valid preface never crash the server, hold no stream, and it still serves", async () => {
    const srv = await echoServer();
    cleanup.push(() => srv.close());
    const arbFrame = fc.record({
      type: fc.integer({ min: 0, max: 10 }),
      flags: fc.integer({ min: 0, max: 255 }),
      streamId: fc.integer({ min: 0, max: 9 }),
      payload: fc.uint8Array({ maxLength: 40 }),
    });
    const runs = fc.sample(fc.array(arbFrame, { minLength: 1, maxLength: 12 }), { numRuns: 150, seed: 42 });
    const fds = () => readdirSync("/proc/self/fd").length;
    const baseline = fds();
    for (const frames of runs) {
      const a = await attacker(srv.port);
      a.sock.write(Buffer.concat(frames.map((f) => frame(f.type, f.flags, f.streamId, Buffer.from(f.payload)))));
      a.sock.end();
      await Promise.race([a.closed, new Promise((r) => setTimeout(r, 2000))]);
      a.sock.destroy();
    }
    // Every socket either side opened is gone (a server that only half-closed would hold them).
    for (let i = 0; i < 50 && fds() > baseline; i++) await new Promise((r) => setTimeout(r, 100));
    expect(fds()).toBe(baseline);
    expect(srv.connections.reduce((n, c) => n + c.openStreams, 0)).toBe(0);
    await stillServes(srv.port);
  });

  it("DATA past the window: GOAWAY FLOW_CONTROL_ERROR", async () => {
    const srv = await echoServer({ ...TEST_SETTINGS, streamWindow: 65_535, connectionWindow: 65_535 }, "hold");
    cleanup.push(() => srv.close());
    const a = await attacker(srv.port);
    a.sock.write(frame(FrameType.Headers, Flag.EndHeaders, 1, connectBlock()));
    for (let i = 0; i < 5; i++) a.sock.write(frame(FrameType.Data, 0, 1, Buffer.alloc(16_000)));
    await a.closed;
    expect(goaway(a.frames)).toBe(ErrorCode.FlowControlError);
  });

  it("more streams than advertised are refused; a rapid reset storm ends the connection", async () => {
    const srv = await echoServer({ ...TEST_SETTINGS, maxConcurrentStreams: 10 });
    cleanup.push(() => srv.close());
    const a = await attacker(srv.port);
    for (let id = 1; id <= 29; id += 2) a.sock.write(frame(FrameType.Headers, Flag.EndHeaders, id, connectBlock()));
    await new Promise((r) => setTimeout(r, 200));
    expect(resets(a.frames, ErrorCode.RefusedStream)).toBe(5);
    expect(srv.connections.at(-1)!.openStreams).toBe(10);
    // Open and reset at once, over and over (CVE-2023-44487).
    const storm: Buffer[] = [];
    for (let id = 31; id < 31 + 2 * 400; id += 2)
      storm.push(frame(FrameType.Headers, Flag.EndHeaders, id, connectBlock()), rstStreamFrame(id, ErrorCode.Cancel));
    a.sock.write(Buffer.concat(storm));
    await a.closed;
    expect(goaway(a.frames)).toBe(ErrorCode.EnhanceYourCalm);
    expect(srv.connections.at(-1)!.openStreams).toBe(0);
  });

  it("an endless header block (CONTINUATION flood) is cut off; a header list bomb gets 431", async () => {
    const srv = await echoServer({ ...TEST_SETTINGS, maxHeaderListSize: 4096 });
    cleanup.push(() => srv.close());
    const a = await attacker(srv.port);
    a.sock.write(frame(FrameType.Headers, 0, 1, connectBlock()));
    for (let i = 0; i < 100; i++) a.sock.write(frame(FrameType.Continuation, 0, 1, Buffer.alloc(1000, 0x82)));
    await a.closed;
    expect(goaway(a.frames)).toBe(ErrorCode.EnhanceYourCalm);

    // The same in one frame: a server that accepts 1 MiB frames still refuses a 100 KB header block.
    const big = await echoServer({ ...TEST_SETTINGS, maxFrameSize: 1 << 20, maxHeaderListSize: 4096 });
    cleanup.push(() => big.close());
    const c = await attacker(big.port);
    c.sock.write(frame(FrameType.Headers, Flag.EndHeaders, 1, Buffer.alloc(100_000, 0x82)));
    await c.closed;
    expect(goaway(c.frames)).toBe(ErrorCode.EnhanceYourCalm);

    // One 3 KB entry in the dynamic table, then a block indexing it 1,000 times: 3 MB of headers from 1 KB.
    const b = await attacker(srv.port);
    const add = Buffer.concat([Buffer.from([0x40, 0x05]), Buffer.from("x-big"), Buffer.from([0x7f, 0xb9, 0x16]), Buffer.alloc(3000, 0x61)]);
    // (Without our encoder's leading size update to 0, which would keep the entry out of the table.)
    b.sock.write(frame(FrameType.Headers, Flag.EndHeaders, 1, Buffer.concat([connectBlock().subarray(1), add, Buffer.alloc(1000, 0xbe)])));
    await new Promise((r) => setTimeout(r, 200));
    const status = b.frames.find((f) => f.type === FrameType.Headers && f.streamId === 1);
    expect(status).toBeDefined();
    expect(status!.payload.toString("latin1")).toContain("431");
    await stillServes(srv.port);
  });

  it("a peer that floods PINGs and reads nothing is disconnected, not buffered for", async () => {
    const srv = await echoServer();
    cleanup.push(() => srv.close());
    const a = await attacker(srv.port);
    a.sock.pause();
    const ping = frame(FrameType.Ping, 0, 0, Buffer.alloc(8));
    const burst = Buffer.concat(Array.from({ length: 10_000 }, () => ping));
    let sent = 0;
    let closed = false;
    void a.closed.then(() => (closed = true));
    while (!closed && sent < 3000) {
      await new Promise<void>((r) => {
        if (a.sock.destroyed || a.sock.write(burst)) return void setImmediate(r);
        a.sock.once("drain", r);
        a.sock.once("close", () => r());
      });
      sent++;
    }
    expect(closed, `still open after ${sent * 10_000} PINGs`).toBe(true);
    await stillServes(srv.port);
  });

  it("a bad preface, or SETTINGS out of range, ends the connection with the right code", async () => {
    const srv = await echoServer();
    cleanup.push(() => srv.close());
    const raw = net.connect({ port: srv.port, host: "127.0.0.1" });
    raw.on("error", () => {});
    raw.resume();
    raw.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    await new Promise((r) => raw.once("close", r));
    const a = await attacker(srv.port);
    a.sock.write(frame(FrameType.Settings, 0, 0, Buffer.from([0, 5, 0, 0, 0, 1]))); // MAX_FRAME_SIZE 1
    await a.closed;
    expect(goaway(a.frames)).toBe(ErrorCode.ProtocolError);
    const b = await attacker(srv.port);
    b.sock.write(frame(FrameType.WindowUpdate, 0, 0, Buffer.from([0x7f, 0xff, 0xff, 0xff])));
    await b.closed;
    expect(goaway(b.frames)).toBe(ErrorCode.FlowControlError);
  });
});
