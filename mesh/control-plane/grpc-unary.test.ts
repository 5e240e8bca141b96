// The unary gRPC handler against a client that plays by the rules and one that does not: each bad
// request gets the status the gRPC protocol gives it, and the server keeps serving.
import http2 from "node:http2";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { silentLogger } from "../shared/index.ts";
import { countingH2Server, grpcFrame, type CountingH2Server } from "../testing/index.ts";
import { serveUnary, timeoutMs, type UnaryMethod } from "./grpc-unary.ts";

/** Echoes its request, refuses "deny" with a non-ASCII message, fails on "boom". */
const echo: UnaryMethod<Buffer> = {
  path: "/test.Echo/Say",
  maxRequestBytes: 1024,
  decode: (b) => {
    if (b[0] === 0xff) throw new Error("not a message");
    return Buffer.from(b);
  },
  handle: async (req) => {
    if (req.toString() === "deny") throw new ConnectError("nein — 100% sicher", Code.PermissionDenied);
    if (req.toString() === "boom") throw new Error("a bug");
    return req;
  },
};

let server: CountingH2Server;
let url: string;
const openStreams = () => server.openStreams();
beforeAll(async () => {
  server = await countingH2Server((req, res) => serveUnary(req, res, echo, silentLogger()));
  url = server.url;
});
afterAll(() => server.close());

interface Outcome {
  status: number;
  grpcStatus?: string;
  grpcMessage?: string;
  acceptEncoding?: string;
  body: Buffer;
  reset?: number;
}

/** One call: headers (merged over a valid gRPC request's), the body written as given, `end` to finish the request. */
function call(body: Buffer, headers: http2.OutgoingHttpHeaders = {}, end = true): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(url);
    session.on("error", reject);
    const req = session.request({ ":method": "POST", ":path": echo.path, "content-type": "application/grpc", te: "trailers", ...headers });
    const out: Outcome = { status: 0, body: Buffer.alloc(0) };
    const chunks: Buffer[] = [];
    const take = (h: http2.IncomingHttpHeaders) => {
      if (h["grpc-status"] !== undefined) out.grpcStatus = String(h["grpc-status"]);
      if (h["grpc-message"] !== undefined) out.grpcMessage = String(h["grpc-message"]);
      if (h["grpc-accept-encoding"] !== undefined) out.acceptEncoding = String(h["grpc-accept-encoding"]);
    };
    req.on("response", (h) => {
      out.status = Number(h[":status"]);
      take(h);
      // A request still being written when the server answers (too large, or stalled): the server has its
      // status out and resets the stream; node's client then waits on its unsent bytes, so stop here.
      if (!end && out.grpcStatus !== undefined) {
        session.destroy();
        resolve(out);
      }
    });
    req.on("trailers", take);
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("error", () => undefined);
    req.on("close", () => {
      out.body = Buffer.concat(chunks);
      if (req.rstCode) out.reset = req.rstCode;
      session.close();
      resolve(out);
    });
    if (end) req.end(body);
    else req.write(body);
  });
}

describe("serveUnary", () => {
  it("answers a call with the length-prefixed response and grpc-status 0 in the trailers", async () => {
    const out = await call(grpcFrame(Buffer.from("hello")));
    expect(out).toMatchObject({ status: 200, grpcStatus: "0" });
    expect(out.body).toEqual(grpcFrame(Buffer.from("hello")));
  });

  it("maps a refusal to its code with the message percent-encoded, and a bug to INTERNAL without details", async () => {
    const denied = await call(grpcFrame(Buffer.from("deny")));
    expect(denied).toMatchObject({ status: 200, grpcStatus: String(Code.PermissionDenied) });
    expect(decodeURIComponent(denied.grpcMessage!)).toBe("nein — 100% sicher");
    const bug = await call(grpcFrame(Buffer.from("boom")));
    expect(bug).toMatchObject({ grpcStatus: String(Code.Internal), grpcMessage: "internal error" });
  });

  it("refuses what is not a gRPC call, a compressed one, and malformed framing, each with its status", async () => {
    expect((await call(grpcFrame(Buffer.from("x")), { "content-type": "application/json" })).status).toBe(415);
    const gzip = await call(grpcFrame(Buffer.from("x")), { "grpc-encoding": "gzip" });
    expect(gzip).toMatchObject({ grpcStatus: String(Code.Unimplemented), acceptEncoding: "identity" });
    expect((await call(Buffer.from([0, 0]))).grpcStatus).toBe(String(Code.Internal));
    expect((await call(grpcFrame(Buffer.from("x"), 1))).grpcStatus).toBe(String(Code.Internal));
    expect((await call(Buffer.concat([grpcFrame(Buffer.from("a")), grpcFrame(Buffer.from("b"))]))).grpcStatus).toBe(String(Code.Unimplemented));
    expect((await call(grpcFrame(Buffer.from([0xff, 1])))).grpcStatus).toBe(String(Code.Internal));
  });

  it("stops reading a request larger than its limit, and ends a request that never completes at its deadline", async () => {
    const big = await call(Buffer.concat([grpcFrame(Buffer.alloc(4000)), Buffer.alloc(100_000)]), {}, false);
    expect(big.grpcStatus).toBe(String(Code.ResourceExhausted));
    const lying = await call(Buffer.from([0, 0x7f, 0xff, 0xff, 0xff]));
    expect(lying.grpcStatus).toBe(String(Code.ResourceExhausted));
    const t0 = performance.now();
    const stalled = await call(Buffer.from([0, 0, 0]), { "grpc-timeout": "200m" }, false);
    expect(stalled.grpcStatus).toBe(String(Code.DeadlineExceeded));
    expect(performance.now() - t0).toBeLessThan(5000);
    // Still serving, and no stream of those calls is left open.
    expect((await call(grpcFrame(Buffer.from("ok")))).grpcStatus).toBe("0");
    await vi.waitFor(() => expect(openStreams()).toBe(0));
  });
});

describe("grpc-unary helpers", () => {
  it("reads grpc-timeout in every unit, and treats a missing or malformed one as no deadline", () => {
    expect(timeoutMs("2H")).toBe(7_200_000);
    expect(timeoutMs("3M")).toBe(180_000);
    expect(timeoutMs("5S")).toBe(5000);
    expect(timeoutMs("250m")).toBe(250);
    expect(timeoutMs("1000u")).toBe(1);
    expect(timeoutMs("1000000n")).toBe(1);
    for (const bad of [undefined, "", "5", "5s", "123456789S", "-1S"]) expect(timeoutMs(bad)).toBe(Number.POSITIVE_INFINITY);
  });
});
