// prom-client's own Counter and Histogram are the oracle: the same observations must give the same text.
import { Counter, Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { RequestMetrics } from "./request-metrics.ts";

const HISTS = [
  { name: "t_duration_ms", help: "Duration", buckets: [0.5, 1, 5, 10] },
  { name: "t_bytes", help: "Bytes", buckets: [1, 100, 10_000] },
];
type L = { reporter: string; code: string; who: string };

function both() {
  const ours = new Registry();
  const theirs = new Registry();
  const m = new RequestMetrics<L>({ registry: ours, counter: { name: "t_requests_total", help: "Requests" }, histograms: HISTS });
  const labelNames = ["reporter", "code", "who"];
  const c = new Counter({ name: "t_requests_total", help: "Requests", labelNames, registers: [theirs] });
  const h = HISTS.map((x) => new Histogram({ ...x, labelNames, registers: [theirs] }));
  const record = (labels: L, values: number[]) => {
    m.record(labels, values);
    c.inc(labels);
    values.forEach((v, i) => h[i]!.observe(labels, v));
  };
  return { ours, theirs, record };
}

describe("request metrics", () => {
  it("write what prom-client writes for the same requests: bounds, values above every bound, escaping", async () => {
    const { ours, theirs, record } = both();
    const a = { reporter: "waypoint", code: "200", who: "spiffe://cluster.local/ns/a/sa/b" };
    const b = { reporter: "waypoint", code: "503", who: 'quote " and \\ backslash\nnewline' };
    const values = [
      [0.2, 0],
      [0.5, 1],
      [0.7, 150],
      [5, 99_999],
      [42, 3],
      [1e6, 10_000],
    ];
    for (const [i, v] of values.entries()) record(i % 2 ? b : a, v);
    record(a, [3, 3]);
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(await ours.metrics()).toContain('t_duration_ms_bucket{le="+Inf",reporter="waypoint",code="503"');
  });

  it("keeps one series per label set and forgets them on reset", async () => {
    const { ours, record } = both();
    for (let i = 0; i < 100; i++) record({ reporter: "waypoint", code: String(200 + (i % 3)), who: "x" }, [1, 1]);
    const text = await ours.metrics();
    expect(text.split("\n").filter((l) => l.startsWith("t_requests_total{"))).toHaveLength(3);
    expect(text).toContain('t_requests_total{reporter="waypoint",code="200",who="x"} 34');
    ours.resetMetrics();
    expect((await ours.metrics()).split("\n").filter((l) => l.startsWith("t_requests_total{"))).toHaveLength(0);
  });
});
