// k6 load script (k6 1.x runs TypeScript directly): a constant arrival rate against TARGET_URL, and a
// summary printed as one marker line of JSON, which the Pulumi Benchmark component reads from the
// Job's log. Settings come from the environment the Job sets.
import http from "k6/http";
import { check } from "k6";
import type { Options } from "k6/options";

const RATE = Number(__ENV.RATE ?? "1000");
const CONNECTIONS = Number(__ENV.CONNECTIONS ?? "4");

export const options: Options = {
  discardResponseBodies: true,
  summaryTrendStats: ["p(50)", "p(90)", "p(95)", "p(99)", "max"],
  scenarios: {
    fixed_rate: {
      executor: "constant-arrival-rate",
      rate: RATE,
      timeUnit: "1s",
      duration: __ENV.DURATION ?? "60s",
      // One VU per connection, as fortio's -c: k6 reuses each VU's keep-alive connection.
      preAllocatedVUs: CONNECTIONS,
      maxVUs: CONNECTIONS * 4,
    },
  },
};

export default function (): void {
  const res = http.get(__ENV.TARGET_URL ?? "http://httpbin:8000/bytes/1024");
  check(res, { "status 200": (r) => r.status === 200 });
}

interface TrendValues {
  "p(50)": number;
  "p(90)": number;
  "p(95)": number;
  "p(99)": number;
  max: number;
}

export function handleSummary(data: { metrics: Record<string, { values: Record<string, number> }> }): Record<string, string> {
  const d = data.metrics.http_req_duration?.values as unknown as TrendValues | undefined;
  const summary = {
    mode: __ENV.MODE ?? "unknown",
    // When the run ended: the run's date in the stack output comes from k6, not from the deploying machine.
    date: new Date().toISOString(),
    requestedRate: RATE,
    achievedRate: data.metrics.http_reqs?.values.rate ?? 0,
    requests: data.metrics.http_reqs?.values.count ?? 0,
    errorRate: data.metrics.http_req_failed?.values.rate ?? 0,
    droppedIterations: data.metrics.dropped_iterations?.values.count ?? 0,
    latencyMs: d ? { p50: d["p(50)"], p90: d["p(90)"], p95: d["p(95)"], p99: d["p(99)"], max: d.max } : null,
  };
  return { stdout: `AMBIENT_LAB_SUMMARY ${JSON.stringify(summary)}\n` };
}
