#!/usr/bin/env node
// Open-loop HTTP/1.1 load generator: requests are dispatched at a fixed rate whatever the latency. A
// request dispatched while all connections are busy waits in the pool's queue, and that wait counts in
// its latency, so a stall shows up in the percentiles instead of silently lowering the rate (no
// coordinated omission). Latency runs from dispatch, so our own timer jitter is not charged to the
// system under test. Prints one JSON object.
//   node mesh/measure/loadgen.ts --url http://198.18.2.10:8080/ --rate 1000 --connections 4 --duration 20 --warmup 3
import { createHistogram } from "node:perf_hooks";
import { Pool } from "undici";
import { scriptArgs } from "../shared/index.ts";

const USAGE = `Usage: node mesh/measure/loadgen.ts --url URL [--rate 1000] [--connections 4] [--duration 10] [--warmup 2]
  open-loop HTTP/1.1 load at a fixed rate (latency from dispatch: no coordinated omission); prints one JSON object
`;
const { values } = scriptArgs("loadgen", USAGE, {
  options: {
    url: { type: "string" },
    rate: { type: "string", default: "1000" },
    connections: { type: "string", default: "4" },
    duration: { type: "string", default: "10" },
    warmup: { type: "string", default: "2" },
  },
});
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

const pool = new Pool(url.origin, { connections, pipelining: 1, keepAliveTimeout: 120_000, headersTimeout: 30_000, bodyTimeout: 30_000 });
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
  pool
    .request({ path, method: "GET" })
    .then(async (res) => {
      await res.body.dump({ limit: 1 << 30 });
      if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`);
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
  void pool.close().then(() => process.exit(0));
}

tick();
