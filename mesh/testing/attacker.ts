#!/usr/bin/env node
// The attacker the network-namespace adversarial tests run inside a pod (as that pod's user): each
// scenario does one bad thing to an HBONE port and prints one JSON line saying what the server did.
//   node attacker.ts idle      --target ip:port --count N --hold-ms M
//   node attacker.ts garbage   --target ip:port
//   node attacker.ts tls       --target ip:port --mode tls12|alpn|nocert|selfsigned [--cert f --key f]
//   node attacker.ts streams   --target ip:port --cert f --key f --authority ip:port --count N
//   node attacker.ts connect   --target ip:port --cert f --key f --authority text
//   node attacker.ts header    --target ip:port --cert f --key f --authority ip:port --bytes N
import { readFileSync } from "node:fs";
import net from "node:net";
import tls from "node:tls";
import { parseArgs } from "node:util";
import { connectHeaders, Flag, frame, FrameType, headerBlock, headersFrame, PREFACE, readFrames, settingsFrame } from "./h2-raw.ts";
import { HpackDecoder } from "../proxy/h2/index.ts";

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    target: { type: "string" },
    count: { type: "string", default: "1" },
    "hold-ms": { type: "string", default: "1000" },
    mode: { type: "string" },
    cert: { type: "string" },
    key: { type: "string" },
    authority: { type: "string" },
    bytes: { type: "string", default: "100000" },
  },
});
const [host, portText] = (values.target ?? "").split(":");
const port = Number(portText);
const done = (result: Record<string, unknown>) => {
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function tcp(): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: host!, port }, () => resolve(s));
    s.once("error", reject);
  });
}

/** Resolves when the server has closed the socket, or after `ms` with false. */
function closedWithin(s: net.Socket, ms: number): Promise<boolean> {
  if (s.destroyed) return Promise.resolve(true);
  s.resume();
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    s.once("close", () => {
      clearTimeout(timer);
      resolve(true);
    });
    s.on("error", () => undefined);
  });
}

function mtls(opts: { cert?: string; key?: string; maxVersion?: tls.SecureVersion; alpn?: string[] } = {}): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({
      host: host!,
      port,
      rejectUnauthorized: false,
      ...(opts.cert ? { cert: readFileSync(opts.cert), key: readFileSync(opts.key!) } : {}),
      ...(opts.maxVersion ? { maxVersion: opts.maxVersion } : {}),
      ALPNProtocols: opts.alpn ?? ["h2"],
    });
    s.once("secureConnect", () => resolve(s));
    s.once("error", reject);
    s.once("close", () => reject(new Error("closed during the handshake")));
  });
}

async function main(): Promise<void> {
  switch (positionals[0]) {
    case "idle": {
      const count = Number(values.count);
      const socks = await Promise.all(Array.from({ length: count }, () => tcp().catch(() => undefined)));
      const closed = await Promise.all(socks.map((s) => (s ? closedWithin(s, Number(values["hold-ms"])) : Promise.resolve(true))));
      for (const s of socks) s?.destroy();
      return done({ opened: socks.filter(Boolean).length, closedByServer: closed.filter(Boolean).length });
    }
    case "garbage": {
      const payloads = [
        Buffer.from([0x16, 0x03, 0x01, 0xff, 0xff, 0, 1, 2]),
        Buffer.from("GET / HTTP/1.1\r\nhost: x\r\n\r\n"),
        Buffer.concat([PREFACE, settingsFrame(), headersFrame(1, connectHeaders("1.2.3.4:80"))]),
      ];
      const closed: boolean[] = [];
      for (const p of payloads) {
        const s = await tcp();
        s.on("error", () => undefined);
        s.write(p);
        closed.push(await closedWithin(s, 5000));
      }
      return done({ closed });
    }
    case "tls": {
      let self: { cert: string; key: string } | undefined;
      const mode = values.mode;
      try {
        const s = await mtls({
          ...(mode === "tls12" ? { maxVersion: "TLSv1.2" as const, cert: values.cert, key: values.key } : {}),
          ...(mode === "alpn" ? { alpn: ["http/1.1"], cert: values.cert, key: values.key } : {}),
          ...(mode === "selfsigned" ? (self = { cert: values.cert!, key: values.key! }) : {}),
        });
        const got = readFrames(s);
        s.write(Buffer.concat([PREFACE, settingsFrame(), headersFrame(1, connectHeaders(values.authority ?? "1.2.3.4:80"))]));
        const closed = await closedWithin(s, 5000);
        return done({ handshake: true, responses: got.frames.filter((f) => f.type === FrameType.HEADERS).length, closed, self: Boolean(self) });
      } catch (err) {
        return done({ handshake: false, refusedWith: (err as Error).message });
      }
    }
    case "streams": {
      const s = await mtls({ cert: values.cert!, key: values.key! });
      const got = readFrames(s);
      const count = Number(values.count);
      s.write(
        Buffer.concat([PREFACE, settingsFrame(), ...Array.from({ length: count }, (_, i) => headersFrame(1 + 2 * i, connectHeaders(values.authority!)))]),
      );
      for (
        let i = 0;
        i < 50 &&
        got.frames.filter((f) => f.type === FrameType.HEADERS || f.type === FrameType.RST_STREAM).length < count &&
        !got.frames.some((f) => f.type === FrameType.GOAWAY);
        i++
      )
        await sleep(100);
      const headers = got.frames.filter((f) => f.type === FrameType.HEADERS).length;
      const resets = got.frames.filter((f) => f.type === FrameType.RST_STREAM).length;
      s.destroy();
      return done({ sent: count, answered: headers, reset: resets, goaway: got.frames.some((f) => f.type === FrameType.GOAWAY) });
    }
    case "connect": {
      const s = await mtls({ cert: values.cert!, key: values.key! });
      const got = readFrames(s);
      s.write(Buffer.concat([PREFACE, settingsFrame(), headersFrame(1, connectHeaders(values.authority!))]));
      for (let i = 0; i < 30 && !got.frames.some((f) => f.streamId === 1 && (f.type === FrameType.HEADERS || f.type === FrameType.RST_STREAM)); i++)
        await sleep(100);
      const h = got.frames.find((f) => f.streamId === 1 && f.type === FrameType.HEADERS);
      s.destroy();
      // The server's answer, decoded (the response is the connection's first header block).
      const status = h ? new HpackDecoder({ tableSize: 4096, maxHeaderListSize: 65_536 }).decode(h.payload).find(([n]) => n === ":status")?.[1] : undefined;
      return done({
        status: status === undefined ? "none" : status === "200" || status === "400" ? Number(status) : "other",
        reset: got.frames.some((f) => f.type === FrameType.RST_STREAM),
      });
    }
    case "header": {
      const s = await mtls({ cert: values.cert!, key: values.key! });
      const got = readFrames(s);
      const block = headerBlock(connectHeaders(values.authority!, [["x-big", "a".repeat(Number(values.bytes))]]));
      const parts: Buffer[] = [];
      for (let off = 0; off < block.length; off += 16_384) {
        parts.push(
          frame(
            off === 0 ? FrameType.HEADERS : FrameType.CONTINUATION,
            off + 16_384 >= block.length ? Flag.END_HEADERS : 0,
            1,
            block.subarray(off, off + 16_384),
          ),
        );
      }
      s.write(Buffer.concat([PREFACE, settingsFrame(), ...parts]));
      for (let i = 0; i < 30 && !s.destroyed && !got.frames.some((f) => f.type === FrameType.GOAWAY || f.type === FrameType.RST_STREAM); i++) await sleep(100);
      const answered = got.frames.some((f) => f.type === FrameType.HEADERS);
      s.destroy();
      return done({ answered, refused: got.frames.some((f) => f.type === FrameType.GOAWAY || f.type === FrameType.RST_STREAM) });
    }
    default:
      process.stderr.write("attacker: scenario idle|garbage|tls|streams|connect|header\n");
      process.exit(2);
  }
}

main().catch((err) => done({ error: (err as Error).message }));
