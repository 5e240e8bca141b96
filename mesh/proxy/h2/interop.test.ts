// Our HTTP/2 against independent implementations, both ways: node:http2 (nghttp2 inside Node),
// Debian's python3-h2 (hyper-h2) and nghttp2's own tools (nghttp, h2load). Bytes are pushed through
// CONNECT tunnels with windows small enough that flow control runs many times, and checked by hash.
import { execFile, spawn } from "node:child_process";
import http2 from "node:http2";
import net from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { ErrorCode } from "./frames.ts";
import { clientConnection, echoServer, pattern, sha256, TEST_SETTINGS, tunnel } from "./testing.ts";

const PEER = join(import.meta.dirname, "testdata", "h2_peer.py");
const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

// Async: a synchronous spawn would block the event loop our own server runs on.
const run = async (cmd: string, args: string[]) => {
  try {
    return await promisify(execFile)(cmd, args, { encoding: "utf8", timeout: 60_000 });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    return { stdout: e.stdout ?? "", stderr: e.stderr ?? e.message };
  }
};

const SMALL = { ...TEST_SETTINGS, streamWindow: 65_535, connectionWindow: 65_535 };

async function nodeEchoServer(): Promise<number> {
  const server = http2.createServer({ settings: { initialWindowSize: 65_535 } });
  server.on("stream", (stream, headers) => {
    if (headers[":method"] !== "CONNECT") return stream.respond({ ":status": 405 }, { endStream: true });
    stream.respond({ ":status": 200 });
    stream.pipe(stream);
  });
  const sessions = new Set<http2.Http2Session>();
  server.on("session", (s) => sessions.add(s));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  cleanup.push(
    () =>
      new Promise<void>((r) => {
        for (const s of sessions) s.destroy();
        server.close(() => r());
      }),
  );
  return (server.address() as net.AddressInfo).port;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

describe("HTTP/2 interop", () => {
  it("our client through a node:http2 server: 8 MiB each way, 64 KiB windows, then PING and GOAWAY", async () => {
    const port = await nodeEchoServer();
    const { conn, sock } = await clientConnection(port, SMALL);
    cleanup.push(() => sock.destroy());
    const data = pattern(8 * 1024 * 1024 + 123);
    const r = await tunnel(conn, data);
    expect(r).toEqual({ status: 200, bytes: data.length, sha: sha256(data) });
    // Two tunnels at once on the connection.
    const [a, b] = await Promise.all([tunnel(conn, data.subarray(0, 300_000)), tunnel(conn, data.subarray(5))]);
    expect(a.sha).toBe(sha256(data.subarray(0, 300_000)));
    expect(b.sha).toBe(sha256(data.subarray(5)));
    expect(await conn.ping()).toBeGreaterThanOrEqual(0);
    const closed = new Promise<void>((r) => sock.once("close", () => r()));
    conn.close();
    await closed;
    expect(conn.usable).toBe(false);
  });

  it("a node:http2 client through our server: 8 MiB echoed, and a GET answered 405", async () => {
    const srv = await echoServer(SMALL);
    cleanup.push(() => srv.close());
    const session = http2.connect(`http://127.0.0.1:${srv.port}`);
    cleanup.push(() => session.destroy());
    const data = pattern(8 * 1024 * 1024 + 7);
    const req = session.request({ ":method": "CONNECT", ":authority": "198.18.0.1:80" });
    const chunks: Buffer[] = [];
    const status = await new Promise<number>((r) => req.once("response", (h) => r(Number(h[":status"]))));
    expect(status).toBe(200);
    req.on("data", (c: Buffer) => chunks.push(c));
    req.end(data);
    await new Promise((r) => req.once("end", r));
    expect(sha256(Buffer.concat(chunks))).toBe(sha256(data));
    const get = session.request({ ":path": "/" }, { endStream: true });
    const getStatus = await new Promise<number>((r) => get.once("response", (h) => r(Number(h[":status"]))));
    expect(getStatus).toBe(405);
  });

  it("python3-h2 as client and as server", async () => {
    const srv = await echoServer(SMALL);
    cleanup.push(() => srv.close());
    const n = 3 * 1024 * 1024 + 11;
    const py = await run("/usr/bin/python3", [PEER, "client", String(srv.port), String(n)]);
    expect(py.stderr).toBe("");
    expect(py.stdout.trim()).toBe(`${n} ${sha256(pattern(n))}`);

    const port = await freePort();
    const server = spawn("/usr/bin/python3", [PEER, "server", String(port)], { stdio: ["ignore", "pipe", "pipe"] });
    cleanup.push(() => server.exitCode === null && server.kill());
    let out = "";
    server.stdout.on("data", (c: Buffer) => (out += c.toString()));
    let err = "";
    server.stderr.on("data", (c: Buffer) => (err += c.toString()));
    await new Promise<void>((r) => server.stdout.once("data", () => r()));
    const { conn, sock } = await clientConnection(port, SMALL);
    cleanup.push(() => sock.destroy());
    const data = pattern(n);
    expect(await tunnel(conn, data)).toEqual({ status: 200, bytes: n, sha: sha256(data) });
    conn.close();
    await new Promise((r) => server.once("exit", r));
    expect(err).toBe("");
    expect(out).toContain("done");
  });

  it("nghttp and h2load against our server: HPACK with Huffman and the dynamic table, many streams", async () => {
    const srv = await echoServer();
    cleanup.push(() => srv.close());
    const nghttp = await run("nghttp", ["-nv", `http://127.0.0.1:${srv.port}/some/path`]);
    expect(nghttp.stdout).toMatch(/recv \(stream_id=\d+\) :status: 405/);
    expect(nghttp.stdout).toMatch(/recv SETTINGS frame <length=30, flags=0x00, stream_id=0>/);
    expect(nghttp.stdout).toMatch(/\[SETTINGS_MAX_CONCURRENT_STREAMS\(0x03\):100\]/);
    // 300 requests on one connection, 20 at a time: every one answered.
    const load = await run("h2load", ["-n", "300", "-c", "1", "-m", "20", `http://127.0.0.1:${srv.port}/`]);
    expect(load.stdout).toMatch(/requests: 300 total, 300 started, 300 done, 0 succeeded, 300 failed, 0 errored, 0 timeout/);
    expect(load.stdout).toMatch(/status codes: 0 2xx, 0 3xx, 300 4xx, 0 5xx/);
    expect(srv.connections.every((c) => c.openStreams === 0)).toBe(true);
  });

  it("streams reset with bytes unread give their connection window back (no slow leak to a stall)", async () => {
    const port = await nodeEchoServer();
    // A 64 KiB connection window: two streams each holding 40 KB unread would stall it for good.
    const { conn, sock } = await clientConnection(port, SMALL);
    cleanup.push(() => sock.destroy());
    for (let i = 0; i < 20; i++) {
      const s = conn.request([
        [":method", "CONNECT"],
        [":authority", "198.18.0.1:80"],
      ]);
      let got = 0;
      const enough = new Promise<void>((r) => s.attach({ data: (c) => void ((got += c.length) >= 40_000 && r()), end: () => {}, close: () => {} }));
      s.onResponse = () => s.write(pattern(40_000));
      await enough; // never consumed
      s.reset();
    }
    const data = pattern(500_000);
    expect((await tunnel(conn, data)).sha).toBe(sha256(data));
  });

  it("a reset stream tells the other side, and the connection carries on", async () => {
    const port = await nodeEchoServer();
    const { conn, sock } = await clientConnection(port);
    cleanup.push(() => sock.destroy());
    const s = conn.request([
      [":method", "CONNECT"],
      [":authority", "198.18.0.1:80"],
    ]);
    await new Promise<void>((r) => (s.onResponse = () => r()));
    const closed = new Promise<number | null>((r) => s.attach({ data: () => {}, end: () => {}, close: (code) => r(code) }));
    s.reset(ErrorCode.Cancel);
    expect(await closed).toBe(ErrorCode.Cancel);
    expect(conn.openStreams).toBe(0);
    const data = pattern(100_000);
    expect((await tunnel(conn, data)).sha).toBe(sha256(data));
  });
});
