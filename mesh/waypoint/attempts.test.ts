// The attempt loop with a scripted forwarder: which answers are retried, how often, after what wait,
// on which endpoint, and which timeout ends what. Real timers, short backoffs.
import { describe, expect, it } from "vitest";
import type { RouteRetry } from "../proxy/index.ts";
import { backoffMs, retriableAnswer, runAttempts, type AttemptOptions } from "./attempts.ts";
import type { Downstream, HeaderValues } from "./downstream.ts";
import type { Forwarded } from "./forward-request.ts";
import type { UpstreamTarget } from "./upstream.ts";

class Client implements Downstream {
  readonly version = "HTTP/1.1";
  headersSent = false;
  status = 0;
  body = "";
  respond(status: number): void {
    this.status = status;
    this.headersSent = true;
  }
  write(c: Uint8Array): boolean {
    this.body += Buffer.from(c).toString();
    return true;
  }
  end(): void {}
  abort(): void {}
  onDrain(): void {}
  onGone(): void {}
}

type Script = { status: number; headers?: HeaderValues } | "connect-failure" | "hang";
const target = (n: number): UpstreamTarget => ({ workload: { name: `ep-${n}` } as never, port: 80 });

function run(script: Script[], o: Partial<AttemptOptions> & { retry?: RouteRetry }) {
  const client = new Client();
  const tried: string[] = [];
  const cancelled: number[] = [];
  const at: number[] = [];
  let picks = 0;
  const started = performance.now();
  return new Promise<{ client: Client; tried: string[]; cancelled: number[]; at: number[]; result: string }>((resolve) => {
    runAttempts(
      target(0),
      client,
      {
        forward: (t, down, done: (f: Forwarded) => void) => {
          const n = tried.length;
          tried.push(t.workload.name);
          at.push(performance.now() - started);
          const step = script[Math.min(n, script.length - 1)]!;
          if (step === "connect-failure") queueMicrotask(() => done({ code: 503, flag: "UF", detail: "refused", bytes: 0, local: true }));
          else if (step !== "hang")
            queueMicrotask(() => {
              down.respond(step.status, step.headers ?? {});
              down.write(Buffer.from(`attempt ${n}`));
              down.end();
              done({ code: step.status, flag: "-", detail: "via_upstream", bytes: 9 });
            });
          return () => cancelled.push(n);
        },
        retarget: () => target(++picks),
      },
      { retry: undefined, requestMs: undefined, backendRequestMs: undefined, ...o },
      {
        done: (f, retries) => resolve({ client, tried, cancelled, at, result: `${f.code} ${f.flag} after ${retries}` }),
        timedOut: (ms) => resolve({ client, tried, cancelled, at, result: `timeout ${ms}` }),
      },
    );
  });
}

const retry = (r: Partial<RouteRetry> = {}): RouteRetry => ({ attempts: 2, codes: [503], backoffMs: 5, ...r });

describe("request attempts", () => {
  it("without a retry: one attempt, its answer passed through", async () => {
    const r = await run([{ status: 503 }], {});
    expect(r.result).toBe("503 - after 0");
    expect(r.tried).toEqual(["ep-0"]);
    expect(r.client.body).toBe("attempt 0");
  });

  it("a retriable status is held back and the request goes to a freshly picked endpoint; the client sees only the answer that counts", async () => {
    const r = await run([{ status: 503 }, { status: 200 }], { retry: retry() });
    expect(r.result).toBe("200 - after 1");
    expect(r.tried).toEqual(["ep-0", "ep-1"]);
    expect(r.cancelled).toEqual([0]);
    expect(r.client).toMatchObject({ status: 200, body: "attempt 1" });
  });

  it("stops after `attempts` retries and passes the last answer on, whatever it is", async () => {
    const r = await run([{ status: 503 }], { retry: retry({ attempts: 2 }) });
    expect(r.result).toBe("503 - after 2");
    expect(r.tried).toHaveLength(3);
    expect(r.client).toMatchObject({ status: 503, body: "attempt 2" });
  });

  it("statuses the route does not list are not retried; connection failures and gRPC UNAVAILABLE/CANCELLED always are", async () => {
    expect((await run([{ status: 500 }], { retry: retry() })).result).toBe("500 - after 0");
    expect((await run(["connect-failure", { status: 200 }], { retry: retry({ codes: [] }) })).result).toBe("200 - after 1");
    const grpc = await run(
      [
        { status: 200, headers: { "grpc-status": "14" } },
        { status: 200, headers: { "grpc-status": "0" } },
      ],
      { retry: retry({ codes: [] }) },
    );
    expect(grpc.result).toBe("200 - after 1");
    expect(retriableAnswer(retry({ codes: [] }), 200, { "grpc-status": "1" })).toBe(true);
    expect(retriableAnswer(retry({ codes: [] }), 200, { "grpc-status": "13" })).toBe(false);
  });

  it("connection failures on every attempt end as the last one's local answer", async () => {
    const r = await run(["connect-failure"], { retry: retry({ attempts: 1 }) });
    expect(r.result).toBe("503 UF after 1");
    expect(r.client.status).toBe(0);
  });

  it("waits backoff, doubling per retry, capped at ten times the route's", async () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffMs(retry({ backoffMs: 25 }), n))).toEqual([25, 50, 100, 200, 250, 250]);
    const r = await run([{ status: 503 }, { status: 503 }, { status: 200 }], { retry: retry({ backoffMs: 40 }) });
    expect(r.at[1]! - r.at[0]!).toBeGreaterThanOrEqual(38);
    expect(r.at[2]! - r.at[1]!).toBeGreaterThanOrEqual(78);
  });

  it("with retries, backendRequest bounds each attempt (retried when 504 is listed) and request the whole", async () => {
    const perTry = await run(["hang", { status: 200 }], { retry: retry({ codes: [504] }), backendRequestMs: 30, requestMs: 5000 });
    expect(perTry.result).toBe("200 - after 1");
    expect(perTry.cancelled).toEqual([0]);
    const notListed = await run(["hang"], { retry: retry(), backendRequestMs: 30, requestMs: 5000 });
    expect(notListed.result).toBe("timeout 30");
    const whole = await run(["hang"], { retry: retry({ codes: [504], attempts: 10 }), backendRequestMs: 40, requestMs: 100 });
    expect(whole.result).toBe("timeout 100");
    expect(whole.tried.length).toBeGreaterThan(1);
    expect(whole.tried.length).toBeLessThan(4);
  });

  it("without retries, the smaller of the two timeouts bounds the request", async () => {
    const r = await run(["hang"], { backendRequestMs: 30, requestMs: 5000 });
    expect(r.result).toBe("timeout 30");
    expect(r.cancelled).toEqual([0]);
  });
});
