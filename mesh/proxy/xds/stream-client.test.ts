// The config stream's own gRPC client against real HTTP/2 servers that behave well and badly: messages
// either way however they are framed, the server's status (in trailers, trailers-only, or an HTTP error)
// as the call's outcome, and every way a peer can misbehave (a message over the bound, one that does not
// decode, a stream that ends inside a message or without a status, a reset, a server that never speaks)
// ending the call with a clear error and the stream closed on both sides. A consumer that stops reading
// holds the server back instead of buffering what it sends.
import http2 from "node:http2";
import net from "node:net";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createRootCa, issueServingCert, MessageReader, type CaMaterial } from "../../shared/index.ts";
import { countingH2Server, grpcFrame, waitFor, type CountingH2Server } from "../../testing/index.ts";
import { callStream, type StreamEndpoint } from "./stream-client.ts";

type Handler = (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void;

/** One server for the file; each test sets what it does. */
let handle: Handler = (_req, res) => res.writeHead(500).end();
let server: CountingH2Server;
beforeAll(async () => {
  server = await countingH2Server((req, res) => handle(req, res));
});
afterAll(() => server.close());
afterEach(async () => {
  // Whatever a test did, its streams are closed on the server's side too.
  expect(await waitFor(() => server.openStreams() === 0)).toBe(true);
});

const text = { path: "/test.Text/Talk", encode: (s: string) => Buffer.from(s), decode: (b: Uint8Array) => Buffer.from(b).toString() };

/** Requests from a list, then (unless `hold`) the end of them. */
async function* requests(list: string[], hold?: Promise<void>): AsyncGenerator<string> {
  yield* list;
  if (hold) await hold;
}

/** Runs a call to completion; returns what arrived and how it ended. */
async function call(ep: Partial<StreamEndpoint>, reqs: AsyncIterable<string>, signal = new AbortController().signal) {
  const got: string[] = [];
  try {
    for await (const m of callStream({ address: server.url, ...ep }, text, reqs, signal)) got.push(m);
    return { got, error: undefined };
  } catch (err) {
    return { got, error: err as ConnectError };
  }
}

/** Answers each request message upper-cased, then status 0 when the requests end. */
const upper: Handler = (req, res) => {
  const reader = new MessageReader(1024);
  res.writeHead(200, { "content-type": "application/grpc" });
  req.on("data", (c: Buffer) => {
    const out = reader.push(c);
    if (!("error" in out)) for (const m of out) res.write(grpcFrame(Buffer.from(Buffer.from(m).toString().toUpperCase())));
  });
  req.on("end", () => {
    res.addTrailers({ "grpc-status": "0" });
    res.end();
  });
};

describe("callStream", () => {
  it("sends requests as length-prefixed messages with the call's headers and yields each response until status 0", async () => {
    let seen: http2.IncomingHttpHeaders = {};
    handle = (req, res) => {
      seen = req.headers;
      upper(req, res);
    };
    const r = await call({ headers: async () => ({ authorization: "Bearer t" }) }, requests(["one", "", "three"]));
    expect(r).toEqual({ got: ["ONE", "", "THREE"], error: undefined });
    expect(seen).toMatchObject({
      ":method": "POST",
      ":path": "/test.Text/Talk",
      "content-type": "application/grpc",
      te: "trailers",
      authorization: "Bearer t",
    });
  });

  it("joins a response the wire cuts into pieces, and yields several that arrive in one piece", async () => {
    handle = (req, res) => {
      res.writeHead(200, { "content-type": "application/grpc" });
      const big = grpcFrame(Buffer.alloc(100_000, "x"));
      // Cut across the prefix and the body, then two messages in one write.
      res.write(big.subarray(0, 3));
      res.write(big.subarray(3, 50_000));
      res.write(big.subarray(50_000));
      res.write(Buffer.concat([grpcFrame(Buffer.from("a")), grpcFrame(Buffer.from("b"))]));
      res.addTrailers({ "grpc-status": "0" });
      res.end();
      req.resume();
    };
    const r = await call({}, requests([]));
    expect(r.error).toBeUndefined();
    expect(r.got.map((m) => m.length)).toEqual([100_000, 1, 1]);
  });

  it("ends with the server's code and its percent-decoded message, after the responses before it", async () => {
    handle = (req, res) => {
      res.writeHead(200, { "content-type": "application/grpc" });
      res.write(grpcFrame(Buffer.from("first")));
      res.addTrailers({ "grpc-status": String(Code.PermissionDenied), "grpc-message": "nein %E2%80%94 100%25" });
      res.end();
      req.resume();
    };
    const r = await call({}, requests([]));
    expect(r.got).toEqual(["first"]);
    expect(r.error).toBeInstanceOf(ConnectError);
    expect(r.error?.code).toBe(Code.PermissionDenied);
    expect(r.error?.rawMessage).toBe("nein — 100%");
  });

  it("takes a trailers-only status, and an HTTP error or a body that is not gRPC as the gRPC status they map to", async () => {
    handle = (req, res) => {
      res.writeHead(200, { "content-type": "application/grpc", "grpc-status": String(Code.Unauthenticated), "grpc-message": "who are you" });
      res.end();
      req.resume();
    };
    const trailersOnly = await call({}, requests([]));
    expect([trailersOnly.error?.code, trailersOnly.error?.rawMessage]).toEqual([Code.Unauthenticated, "who are you"]);

    handle = (req, res) => {
      res.writeHead(404).end();
      req.resume();
    };
    const notFound = await call({}, requests([]));
    expect(notFound.error?.code).toBe(Code.Unimplemented);
    expect(notFound.error?.rawMessage).toContain("HTTP 404");

    handle = (req, res) => {
      res.writeHead(200, { "content-type": "text/html" }).end("<html>");
      req.resume();
    };
    const html = await call({}, requests([]));
    expect(html.error?.code).toBe(Code.Unknown);
    expect(html.error?.rawMessage).toContain("text/html, not gRPC");
  });

  it("refuses a response over the bound from its prefix, without reading it, and resets the stream", async () => {
    let written = 0;
    handle = (req, res) => {
      res.writeHead(200, { "content-type": "application/grpc" });
      const head = Buffer.alloc(5);
      head.writeUInt32BE(50 * 1024 * 1024, 1);
      res.write(head);
      // Keeps sending until the client's reset stops it.
      const more = () => {
        if (res.stream.destroyed || written > 60 * 1024 * 1024) return;
        written += 64 * 1024;
        if (res.write(Buffer.alloc(64 * 1024))) setImmediate(more);
        else res.once("drain", more);
      };
      more();
      req.resume();
    };
    const r = await call({ maxResponseBytes: 1024 * 1024 }, requests([], new Promise(() => undefined)));
    expect(r.error?.code).toBe(Code.ResourceExhausted);
    expect(r.error?.rawMessage).toBe(`response message larger than ${1024 * 1024} bytes`);
    expect(written).toBeLessThan(4 * 1024 * 1024);
  });

  it("ends the call as INTERNAL when a response does not decode", async () => {
    handle = (req, res) => {
      res.writeHead(200, { "content-type": "application/grpc" });
      res.write(grpcFrame(Buffer.from("fine")));
      res.write(grpcFrame(Buffer.from("bad")));
      req.resume();
    };
    const picky = {
      ...text,
      decode: (b: Uint8Array) =>
        Buffer.from(b).toString() === "bad"
          ? (() => {
              throw new Error("no such field 9");
            })()
          : Buffer.from(b).toString(),
    };
    const got: string[] = [];
    const err = await (async () => {
      for await (const m of callStream({ address: server.url }, picky, requests([], new Promise(() => undefined)), new AbortController().signal)) got.push(m);
    })().catch((e: unknown) => e as ConnectError);
    expect(got).toEqual(["fine"]);
    expect(err?.code).toBe(Code.Internal);
    expect(err?.rawMessage).toContain("does not decode: no such field 9");
  });

  it("tells a stream that ends inside a message, ends without a status, or is reset, each with its own error", async () => {
    handle = (req, res) => {
      res.writeHead(200, { "content-type": "application/grpc" });
      res.write(grpcFrame(Buffer.alloc(100)).subarray(0, 20));
      res.addTrailers({ "grpc-status": "0" });
      res.end();
      req.resume();
    };
    const cut = await call({}, requests([]));
    expect([cut.error?.code, cut.error?.rawMessage]).toEqual([Code.Internal, `${server.url} ended the call inside a message`]);

    handle = (req, res) => {
      res.writeHead(200, { "content-type": "application/grpc" });
      res.end(grpcFrame(Buffer.from("x")));
      req.resume();
    };
    const silent = await call({}, requests([]));
    expect(silent.got).toEqual(["x"]);
    expect([silent.error?.code, silent.error?.rawMessage]).toEqual([Code.Internal, `${server.url} ended the call without a status`]);

    handle = (req, res) => {
      res.writeHead(200, { "content-type": "application/grpc" });
      res.write(grpcFrame(Buffer.from("x")));
      setTimeout(() => res.stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR), 20);
      req.resume();
    };
    const reset = await call({}, requests([], new Promise(() => undefined)));
    expect(reset.error?.code).toBe(Code.Unavailable);
    expect(reset.error?.rawMessage).toMatch(/reset|failed/);
  });

  it("cancels on abort and when the consumer stops, closing the stream on the server", async () => {
    let serverClosed = 0;
    handle = (req, res) => {
      res.writeHead(200, { "content-type": "application/grpc" });
      res.write(grpcFrame(Buffer.from("hello")));
      res.on("close", () => serverClosed++);
      req.resume();
    };
    const abort = new AbortController();
    const pending = call({}, requests([], new Promise(() => undefined)), abort.signal);
    await waitFor(() => server.openStreams() === 1);
    abort.abort();
    const r = await pending;
    expect(r.got).toEqual(["hello"]);
    expect(r.error?.code).toBe(Code.Canceled);
    expect(await waitFor(() => serverClosed === 1)).toBe(true);

    for await (const m of callStream({ address: server.url }, text, requests([], new Promise(() => undefined)), new AbortController().signal)) {
      expect(m).toBe("hello");
      break;
    }
    expect(await waitFor(() => serverClosed === 2)).toBe(true);
  });

  it("holds a server back while the consumer does not read, and loses nothing once it does", async () => {
    const total = 2000;
    let sent = 0;
    handle = (req, res) => {
      res.writeHead(200, { "content-type": "application/grpc" });
      const more = () => {
        while (sent < total) {
          const ok = res.write(grpcFrame(Buffer.alloc(1024, sent % 256)));
          sent++;
          if (!ok) return void res.once("drain", more);
        }
        res.addTrailers({ "grpc-status": "0" });
        res.end();
      };
      more();
      req.resume();
    };
    let decoded = 0;
    const counting = { ...text, decode: (b: Uint8Array) => (decoded++, Buffer.from(b)) };
    const it = callStream({ address: server.url }, counting, requests([]), new AbortController().signal)[Symbol.asyncIterator]();
    const first = await it.next();
    expect(first.done).toBe(false);
    await new Promise((r) => setTimeout(r, 300));
    // 2 MB offered; what arrived is what HTTP/2's window let through, and fewer still were decoded.
    expect(sent).toBeLessThan(total);
    expect(decoded).toBeLessThan(100);
    let n = 1;
    for (let r = await it.next(); !r.done; r = await it.next()) {
      expect((r.value as Buffer)[0]).toBe(n % 256);
      n++;
    }
    expect(n).toBe(total);
  });

  it("fails fast with the address when nothing listens, and after connectTimeoutMs when nothing answers", async () => {
    const closed = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, "127.0.0.1", () => {
        const port = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(port));
      });
    });
    const refused = await call({ address: `http://127.0.0.1:${closed}` }, requests([]));
    expect(refused.error?.code).toBe(Code.Unavailable);
    expect(refused.error?.rawMessage).toContain(`127.0.0.1:${closed}`);

    // Accepts TCP and never speaks: the TLS handshake would wait forever.
    const sockets = new Set<net.Socket>();
    let gone = 0;
    const mute = net.createServer((s) => {
      sockets.add(s);
      s.resume();
      s.on("close", () => gone++);
    });
    await new Promise<void>((r) => mute.listen(0, "127.0.0.1", r));
    const port = (mute.address() as net.AddressInfo).port;
    const t0 = Date.now();
    const hung = await call({ address: `https://127.0.0.1:${port}`, connectTimeoutMs: 200 }, requests([]));
    expect(hung.error?.code).toBe(Code.Unavailable);
    expect(hung.error?.rawMessage).toBe(`no connection to https://127.0.0.1:${port} within 200 ms`);
    expect(Date.now() - t0).toBeLessThan(2000);
    // Our side of the connection is gone.
    expect(sockets.size).toBe(1);
    expect(await waitFor(() => gone === 1, 500)).toBe(true);
    await new Promise((r) => mute.close(r));
  });
});

describe("callStream over TLS", () => {
  let ca: CaMaterial;
  let tlsServer: http2.Http2SecureServer;
  let url: string;
  beforeAll(async () => {
    ca = await createRootCa({ trustDomain: "cluster.local" });
    const serving = await issueServingCert({ ca, dnsNames: ["cp.test"], ttlSeconds: 3600 });
    tlsServer = http2.createSecureServer({ cert: serving.certPem, key: serving.keyPem, minVersion: "TLSv1.3" }, upper);
    await new Promise<void>((r) => tlsServer.listen(0, "127.0.0.1", r));
    url = `https://127.0.0.1:${(tlsServer.address() as net.AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => tlsServer.close(() => r())));

  const expecting = (name: string) => ({
    ca: ca.rootPem,
    minVersion: "TLSv1.3" as const,
    checkServerIdentity: (_host: string, cert: { subjectaltname?: string }) =>
      cert.subjectaltname === `DNS:${name}` ? undefined : new Error(`server presented ${cert.subjectaltname}, expected ${name}`),
  });

  it("talks to a server with the identity it expects, and refuses one with another", async () => {
    const ok = await call({ address: url, tls: expecting("cp.test") }, requests(["over tls"]));
    expect(ok).toEqual({ got: ["OVER TLS"], error: undefined });
    const wrong = await call({ address: url, tls: expecting("other.test") }, requests(["x"]));
    expect(wrong.error?.code).toBe(Code.Unavailable);
    expect(wrong.error?.rawMessage).toContain("server presented DNS:cp.test, expected other.test");
  });
});
