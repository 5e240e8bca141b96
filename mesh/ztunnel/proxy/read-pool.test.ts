// Pooled reads with real sockets: TCP in, HTTP/2 over TLS or TCP out. The pools are tiny so that every
// buffer is reused many times: a buffer given back before its write completed would corrupt the stream.
import { createHash, randomBytes } from "node:crypto";
import { once } from "node:events";
import http2 from "node:http2";
import net from "node:net";
import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { createRootCa, silentLogger } from "../../shared/index.ts";
import { eventually } from "../../testing/expect.ts";
import { CertManager, FileCaClient } from "../../proxy/index.ts";
import { BufferPool, pumpPooled, type ReadPools } from "./read-pool.ts";

const closers: Array<() => void> = [];
afterEach(() => {
  for (const c of closers.splice(0)) c();
});

const tinyPools = (): ReadPools => ({ small: new BufferPool(512, 4), large: new BufferPool(4096, 4), maxInFlight: 2 });
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

/** A TCP listener whose first accepted socket is handed over; the client side is returned too. */
async function tcpPair(): Promise<{ accepted: net.Socket; client: net.Socket }> {
  const server = net.createServer({ allowHalfOpen: true });
  closers.push(() => server.close());
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const acceptedP = once(server, "connection") as Promise<[net.Socket]>;
  const client = net.connect({ port: (server.address() as net.AddressInfo).port, host: "127.0.0.1", allowHalfOpen: true });
  const [accepted] = await acceptedP;
  await once(client, "connect");
  closers.push(() => (client.destroy(), accepted.destroy()));
  return { accepted, client };
}

/** An HTTP/2 stream over TLS whose server side collects what arrives. */
async function h2Stream(): Promise<{ stream: http2.ClientHttp2Stream; received: Promise<Buffer> }> {
  const certs = new CertManager({ ca: FileCaClient.fromMaterial(await createRootCa({ trustDomain: "cluster.local" })), ttlSeconds: 3600, log: silentLogger() });
  closers.push(() => certs.close());
  const cert = await certs.get({ trustDomain: "cluster.local", namespace: "demo", serviceAccount: "sink" });
  const server = http2.createSecureServer({ cert: cert.chainPem.join("\n"), key: cert.keyPem });
  let resolveReceived!: (b: Buffer) => void;
  const received = new Promise<Buffer>((r) => (resolveReceived = r));
  server.on("stream", (s) => {
    const chunks: Buffer[] = [];
    s.on("data", (c: Buffer) => chunks.push(c));
    s.on("end", () => {
      resolveReceived(Buffer.concat(chunks));
      s.respond({ ":status": 200 }, { endStream: true });
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const session = http2.connect(`https://127.0.0.1:${(server.address() as net.AddressInfo).port}`, { ca: cert.roots, checkServerIdentity: () => undefined });
  closers.push(() => (session.destroy(), server.close()));
  const stream = session.request({ ":method": "POST", ":path": "/" }, { endStream: false });
  stream.on("error", () => undefined); // cancelled at teardown when a test never ends it
  return { stream, received };
}

describe("pooled reads", () => {
  it("carries megabytes through HTTP/2 over TLS intact, reusing a handful of buffers", async () => {
    const { accepted, client } = await tcpPair();
    const { stream, received } = await h2Stream();
    const pools = tinyPools();
    let counted = 0;
    expect(pumpPooled(accepted, stream, pools, (n) => (counted += n))).toBe(true);
    const data = randomBytes(8 * 1024 * 1024);
    client.end(data);
    const got = await received;
    expect(got.length).toBe(data.length);
    expect(sha(got)).toBe(sha(data));
    expect(counted).toBe(data.length);
    // 8 MB in 4 KB reads is ~2,000 reads; reuse keeps the buffers ever allocated to a few.
    expect(pools.large.allocated).toBeLessThanOrEqual(pools.maxInFlight + 2);
    expect(pools.small.allocated).toBeLessThanOrEqual(2);
  });

  it("passes on first what arrived before pumping began, then the rest, and the half-close", async () => {
    const { accepted, client } = await tcpPair();
    const first = randomBytes(3000);
    client.write(first);
    await eventually(() => accepted.readableLength === first.length);
    const sink = net.createServer({ allowHalfOpen: true });
    const got = new Promise<Buffer>((resolve) =>
      sink.on("connection", (s) => {
        const chunks: Buffer[] = [];
        s.on("data", (c: Buffer) => chunks.push(c));
        s.on("end", () => resolve(Buffer.concat(chunks)));
      }),
    );
    sink.listen(0, "127.0.0.1");
    await once(sink, "listening");
    const out = net.connect({ port: (sink.address() as net.AddressInfo).port, host: "127.0.0.1", allowHalfOpen: true });
    closers.push(() => (out.destroy(), sink.close()));
    await once(out, "connect");
    expect(pumpPooled(accepted, out, tinyPools(), () => undefined)).toBe(true);
    const rest = randomBytes(100_000);
    client.end(rest);
    expect(sha(await got)).toBe(sha(Buffer.concat([first, rest])));
  });

  it("stops reading while its writes are not completing: what it holds is bounded", async () => {
    const { accepted, client } = await tcpPair();
    // A destination that accepts writes and never completes them (a peer that stopped reading).
    const stuck = new Writable({ write: () => undefined });
    const pools = tinyPools();
    expect(pumpPooled(accepted, stuck, pools, () => undefined)).toBe(true);
    client.write(randomBytes(4 * 1024 * 1024));
    await new Promise((r) => setTimeout(r, 300));
    // maxInFlight buffers are read, then the socket stops; the rest waits in the kernel and the sender.
    expect(accepted.bytesRead).toBeLessThanOrEqual(pools.maxInFlight * pools.large.size);
    expect(pools.large.allocated + pools.small.allocated).toBeLessThanOrEqual(pools.maxInFlight + 1);
  });

  it("leaves what it cannot read into user buffers to pipe()", async () => {
    const { stream } = await h2Stream();
    expect(pumpPooled(stream, new Writable({ write: (_c, _e, cb) => cb() }), tinyPools(), () => undefined)).toBe(false);
    const { accepted } = await tcpPair();
    accepted.destroy();
    expect(pumpPooled(accepted, new Writable(), tinyPools(), () => undefined)).toBe(false);
  });

  it("keeps at most maxFree buffers", () => {
    const pool = new BufferPool(16, 2);
    const taken = [pool.take(), pool.take(), pool.take()];
    for (const b of taken) pool.give(b);
    expect(pool.freeCount).toBe(2);
    expect(pool.allocated).toBe(3);
    pool.take();
    expect(pool.allocated).toBe(3);
  });
});
