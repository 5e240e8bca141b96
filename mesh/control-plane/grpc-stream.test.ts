// The streaming gRPC handler: messages split and joined as the wire delivers them, responses written as
// the method's pieces, statuses in trailers, bounds on what a client sends, and the handler ending
// whenever the call does (the client resetting, or its requests ending).
import http2 from "node:http2";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MessageReader, silentLogger } from "../shared/index.ts";
import { countingH2Server, grpcFrame, waitFor, type CountingH2Server } from "../testing/index.ts";
import { serveStream, type StreamMethod } from "./grpc-stream.ts";

/**
 * Answers each request with its text upper-cased, as two pieces (so the pieces are joined on the wire);
 * "fail" fails the call with a ConnectError after responses went out, "bug" with a plain error.
 */
let running = 0;
let pulledTotal = 0;
let decodedTotal = 0;
const upper: StreamMethod<string, string> = {
  path: "/test.Upper/Shout",
  maxRequestBytes: 64,
  decode: (b) => {
    if (b[0] === 0xff) throw new Error("not a message");
    decodedTotal++;
    return Buffer.from(b).toString();
  },
  // A request starting "BULK" gets 32 KiB more: responses that fill a client's window quickly.
  encode: (s) => [Buffer.from(s.slice(0, 1)), Buffer.from(s.slice(1)), ...(s.startsWith("BULK") ? [Buffer.alloc(32 * 1024)] : [])],
  handle: async function* (requests, headers) {
    running++;
    try {
      if (headers.authorization !== "Bearer ok") throw new ConnectError("who are you", Code.Unauthenticated);
      for await (const r of requests) {
        pulledTotal++;
        if (r === "fail") throw new ConnectError("nein — 100% sicher", Code.PermissionDenied);
        if (r === "bug") throw new Error("a bug");
        yield r.toUpperCase();
      }
    } finally {
      running--;
    }
  },
};

let server: CountingH2Server;
let url: string;
const openStreams = () => server.openStreams();
beforeAll(async () => {
  server = await countingH2Server((req, res) => serveStream(req, res, upper, silentLogger()));
  url = server.url;
});
afterAll(() => server.close());

interface Call {
  req: http2.ClientHttp2Stream;
  session: http2.ClientHttp2Session;
  messages: string[];
  done: Promise<{ grpcStatus?: string; grpcMessage?: string; reset: boolean }>;
}

function open(headers: http2.OutgoingHttpHeaders = {}): Call {
  const session = http2.connect(url);
  session.on("error", () => undefined);
  const req = session.request({
    ":method": "POST",
    ":path": upper.path,
    "content-type": "application/grpc",
    te: "trailers",
    authorization: "Bearer ok",
    ...headers,
  });
  const messages: string[] = [];
  const reader = new MessageReader(1 << 20);
  const status: { grpcStatus?: string; grpcMessage?: string } = {};
  const take = (h: http2.IncomingHttpHeaders) => {
    if (h["grpc-status"] !== undefined) status.grpcStatus = String(h["grpc-status"]);
    if (h["grpc-message"] !== undefined) status.grpcMessage = decodeURIComponent(String(h["grpc-message"]));
  };
  req.on("response", take);
  req.on("trailers", take);
  req.on("data", (c: Buffer) => {
    const out = reader.push(c);
    if (!("error" in out)) messages.push(...out.map((m) => Buffer.from(m).toString()));
  });
  const done = new Promise<{ grpcStatus?: string; grpcMessage?: string; reset: boolean }>((resolve) => {
    req.on("error", () => undefined);
    req.on("close", () => {
      resolve({ ...status, reset: req.rstCode !== http2.constants.NGHTTP2_NO_ERROR });
      session.close();
    });
  });
  return { req, session, messages, done };
}

describe("serveStream", () => {
  it("answers each request as it comes, pieces joined, and ends with status 0 when the client ends", async () => {
    const c = open();
    c.req.write(grpcFrame(Buffer.from("hello")));
    await waitFor(() => c.messages.length === 1);
    expect(c.messages).toEqual(["HELLO"]);
    // Two messages in one write, the second cut across two writes.
    const two = Buffer.concat([grpcFrame(Buffer.from("a")), grpcFrame(Buffer.from("config"))]);
    c.req.write(two.subarray(0, 9));
    c.req.end(two.subarray(9));
    const end = await c.done;
    expect(c.messages).toEqual(["HELLO", "A", "CONFIG"]);
    expect(end.grpcStatus).toBe("0");
    await waitFor(() => running === 0 && openStreams() === 0);
  });

  it("puts a handler's ConnectError after responses in the trailers, and a plain error as INTERNAL", async () => {
    const c = open();
    c.req.write(Buffer.concat([grpcFrame(Buffer.from("x")), grpcFrame(Buffer.from("fail"))]));
    const end = await c.done;
    expect(c.messages).toEqual(["X"]);
    expect(end).toMatchObject({ grpcStatus: String(Code.PermissionDenied), grpcMessage: "nein — 100% sicher" });
    const bug = open();
    bug.req.write(grpcFrame(Buffer.from("bug")));
    expect(await bug.done).toMatchObject({ grpcStatus: String(Code.Internal), grpcMessage: "internal error" });
    await waitFor(() => running === 0 && openStreams() === 0, 3000);
    expect(openStreams()).toBe(0);
  });

  it("refuses before any response: trailers-only with the status", async () => {
    const c = open({ authorization: "Bearer no" });
    c.req.end();
    expect(await c.done).toMatchObject({ grpcStatus: String(Code.Unauthenticated), grpcMessage: "who are you" });
    const zipped = open({ "grpc-encoding": "gzip" });
    zipped.req.end();
    expect((await zipped.done).grpcStatus).toBe(String(Code.Unimplemented));
  });

  it("bounds what a client sends: an oversized message, one that does not decode, a stream ended mid-message", async () => {
    const big = open();
    big.req.write(grpcFrame(Buffer.alloc(65)).subarray(0, 5));
    expect((await big.done).grpcStatus).toBe(String(Code.ResourceExhausted));
    const bad = open();
    bad.req.write(grpcFrame(Buffer.from([0xff])));
    expect((await bad.done).grpcStatus).toBe(String(Code.Internal));
    const cut = open();
    cut.req.end(grpcFrame(Buffer.from("unfinished")).subarray(0, 8));
    expect(await cut.done).toMatchObject({ grpcStatus: String(Code.Internal), grpcMessage: "the request stream ended inside a message" });
    await waitFor(() => running === 0 && openStreams() === 0, 3000);
    expect(openStreams()).toBe(0);
  });

  it("ends the handler when the client resets or goes away mid-call", async () => {
    const c = open();
    c.req.write(grpcFrame(Buffer.from("hi")));
    await waitFor(() => c.messages.length === 1);
    expect(running).toBe(1);
    c.req.close(http2.constants.NGHTTP2_CANCEL);
    await waitFor(() => running === 0 && openStreams() === 0, 3000);
    expect(running).toBe(0);
    const gone = open();
    gone.req.write(grpcFrame(Buffer.from("hi")));
    await waitFor(() => gone.messages.length === 1);
    gone.session.destroy();
    await waitFor(() => running === 0 && openStreams() === 0, 3000);
    expect([running, openStreams()]).toEqual([0, 0]);
  });

  it("stops reading a client that floods requests while the handler is not pulling", async () => {
    pulledTotal = 0;
    decodedTotal = 0;
    const c = open();
    // The client reads nothing: responses back up, the handler waits on the drain, requests queue, and
    // the server stops reading them (16 queued), so HTTP/2 flow control stops the client.
    c.req.pause();
    const msg = grpcFrame(Buffer.from(`bulk${"x".repeat(56)}`));
    let written = 0;
    while (written < 20_000 && c.req.write(msg)) written++;
    await new Promise((r) => setTimeout(r, 300));
    // The client's 64 KiB window holds two responses, the server's stream buffer a few more; then 16
    // requests queue and reading stops, while the client got ~1,000 into the server's window.
    expect(written).toBeGreaterThan(500);
    expect(pulledTotal).toBeLessThan(40);
    // Decoded: what was queued when reading stopped (a read delivers up to 16 KiB, ~250 of them at once).
    expect(decodedTotal).toBeLessThan(written / 2);
    c.req.close(http2.constants.NGHTTP2_CANCEL);
    await waitFor(() => running === 0 && openStreams() === 0, 3000);
    expect(running).toBe(0);
  });
});
