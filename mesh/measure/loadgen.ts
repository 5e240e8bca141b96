#!/usr/bin/env node
// Open-loop load generator (HTTP/1.1; HTTP/2 with prior knowledge; unary gRPC calls of the Echo sample):
// requests are dispatched at a fixed rate whatever the latency. A
// request dispatched while all connections are busy waits in the pool's queue, and that wait counts in
// its latency, so a stall shows up in the percentiles instead of silently lowering the rate (no
// coordinated omission). Latency runs from dispatch, so our own timer jitter is not charged to the
// system under test. Prints one JSON object.
// Over HTTP/2 and gRPC, `connections` sessions carry the requests round-robin, multiplexed.
//   node mesh/measure/loadgen.ts --url http://198.18.2.10:8080/ --rate 1000 --connections 4 --duration 20 --warmup 3
//   node mesh/measure/loadgen.ts --protocol grpc --url http://198.18.2.10:9090 --rate 1000 --connections 1
import http2 from "node:http2";
import { createHistogram } from "node:perf_hooks";
import { Pool } from "undici";
import { scriptArgs } from "../shared/index.ts";

const USAGE = `Usage: node mesh/measure/loadgen.ts --url URL [--protocol http1|h2c|grpc] [--rate 1000] [--connections 4] [--duration 10] [--warmup 2]
  open-loop load at a fixed rate (latency from dispatch: no coordinated omission): HTTP/1.1 GETs (default),
  HTTP/2 GETs with prior knowledge (h2c), or unary gRPC Echo calls (1 KB message); prints one JSON object
`;
const { values } = scriptArgs("loadgen", USAGE, {
  options: {
    url: { type: "string" },
    rate: { type: "string", default: "1000" },
    connections: { type: "string", default: "4" },
    duration: { type: "string", default: "10" },
    warmup: { type: "string", default: "2" },
    protocol: { type: "string", default: "http1" },
  },
});
const protocol = values.protocol;
if (protocol !== "http1" && protocol !== "h2c" && protocol !== "grpc") {
  process.stderr.write(`loadgen: --protocol must be http1, h2c or grpc, not ${protocol}\n`);
  process.exit(2);
}
if (!values.url) {
  process.stderr.write("loadgen: --url is required\n");
  process.exit(2);
}
const url = new URL(values.url);
const rate = Number(values.rate);
const connections = Number(values.connections);
const durationS = Number(values.duration);
const warmupS = Number(values.warmup);
if (!(rate > 0 && connections > 0 && durationS > 0 && warmupS >= 0)) {
  process.stderr.write("loadgen: --rate, --connections and --duration must be positive numbers\n");
  process.exit(2);
}

/** One request by the chosen protocol, resolved once its whole answer has arrived and was a success. */
function sender(): { send: () => Promise<void>; close: () => Promise<void> } {
  if (protocol === "http1") {
    const pool = new Pool(url.origin, { connections, pipelining: 1, keepAliveTimeout: 120_000, headersTimeout: 30_000, bodyTimeout: 30_000 });
    return {
      send: async () => {
        const res = await pool.request({ path, method: "GET" });
        await res.body.dump({ limit: 1 << 30 });
        if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`);
      },
      close: () => pool.close(),
    };
  }
  const sessions = Array.from({ length: connections }, () => http2.connect(url.origin).on("error", () => undefined));
  let next = 0;
  const grpc = protocol === "grpc";
  // A gRPC call written as a client library writes it (a length-prefixed message, te: trailers), without
  // one's per-call machinery in the generator: EchoRequest{message: 1 KB} is field 1, length 1024.
  const call = Buffer.concat([Buffer.from([0, 0, 0, 0x04, 0x03, 0x0a, 0x80, 0x08]), Buffer.alloc(1024, "a")]);
  const headers = grpc
    ? { ":method": "POST", ":path": "/ambientlab.v1.EchoService/Echo", "content-type": "application/grpc", te: "trailers" }
    : { ":method": "GET", ":path": path };
  return {
    send: () =>
      new Promise<void>((resolve, reject) => {
        const s = sessions[next++ % sessions.length]!.request(headers, { endStream: !grpc });
        let status = 0;
        let grpcStatus: string | undefined;
        s.on("response", (h) => {
          status = Number(h[":status"]);
          grpcStatus = h["grpc-status"] as string | undefined;
        });
        s.on("trailers", (t) => (grpcStatus = t["grpc-status"] as string | undefined));
        s.on("data", () => undefined);
        s.on("end", () => {
          if (status !== 200) reject(new Error(`status ${status}`));
          else if (grpc && grpcStatus !== "0") reject(new Error(`grpc-status ${grpcStatus}`));
          else resolve();
        });
        s.on("error", reject);
        if (grpc) s.end(call);
      }),
    close: async () => {
      for (const x of sessions) x.close();
    },
  };
}

const { send, close } = sender();
const hist = createHistogram({ lowest: 1, highest: 120_000_000_000, figures: 3 });
const intervalNs = 1e9 / rate;
const total = Math.round(rate * (warmupS + durationS));
const warmupCount = Math.round(rate * warmupS);
const path = url.pathname + url.search;

let sent = 0;
let done = 0;
let errors = 0;
let measuredOk = 0;
let firstMeasuredAt = 0n;
let lastDoneAt = 0n;
let firstError = "";
const start = process.hrtime.bigint() + 50_000_000n;

function fire(i: number): void {
  const dispatched = process.hrtime.bigint();
  send()
    .then(() => {
      const now = process.hrtime.bigint();
      if (i >= warmupCount) {
        hist.record(now - dispatched > 0n ? now - dispatched : 1n);
        measuredOk++;
        lastDoneAt = now;
      }
    })
    .catch((err: Error) => {
      if (i >= warmupCount) errors++;
      firstError ||= err.message;
    })
    .finally(() => {
      if (++done === total) finish();
    });
}

function tick(): void {
  const now = process.hrtime.bigint();
  while (sent < total) {
    const intended = start + BigInt(Math.round(sent * intervalNs));
    if (intended > now) break;
    if (sent === warmupCount) firstMeasuredAt = intended;
    fire(sent);
    sent++;
  }
  if (sent < total) {
    // Sleep until the next request is due (timers are ~1 ms granular); never busy-wait, since the
    // generator shares the CPU with the proxies it measures.
    const next = start + BigInt(Math.round(sent * intervalNs));
    setTimeout(tick, Math.max(0, Number(next - process.hrtime.bigint()) / 1e6 - 0.3));
  }
}

function finish(): void {
  const ms = (ns: number) => Math.round((ns / 1e6) * 1000) / 1000;
  const elapsedS = Number(lastDoneAt - firstMeasuredAt) / 1e9;
  const out = {
    url: values.url,
    protocol,
    rate,
    connections,
    durationSeconds: durationS,
    requests: measuredOk,
    errors,
    achievedRate: elapsedS > 0 ? Math.round((measuredOk / elapsedS) * 10) / 10 : 0,
    latencyMs: { p50: ms(hist.percentile(50)), p90: ms(hist.percentile(90)), p99: ms(hist.percentile(99)), max: ms(hist.max) },
    ...(firstError ? { firstError } : {}),
  };
  process.stdout.write(JSON.stringify(out) + "\n");
  void close().then(() => process.exit(0));
}

tick();
