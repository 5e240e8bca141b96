// Istio's four per-request HTTP metrics (istio_requests_total and the duration, request-size and
// response-size histograms) recorded in one step per request and exported through prom-client's
// registry in exactly the text prom-client's own Counter and Histogram write.
// Why not prom-client's Counter/Histogram: with Istio's 17 labels each observe() validates every label
// and hashes the sorted label set, four times per request: 5.5 % of the waypoint's CPU in a profile of
// bench:waypoint (issue 12). Here the label set is hashed once (its values joined) and each metric is a
// few array increments. request-metrics.test.ts checks the output against prom-client's for the same
// observations.
import type { Metric, Registry } from "prom-client";

interface HistogramSpec {
  name: string;
  help: string;
  buckets: readonly number[];
}

interface Series<L> {
  labels: L;
  count: number;
  /** Per histogram: counts per bucket (not cumulative; the last slot is above every bound), and the sum. */
  hist: Array<{ counts: number[]; sum: number }>;
}

interface ExportedValue {
  labels: Record<string, string | number>;
  sharedLabels?: Record<string, string>;
  value: number;
  metricName?: string;
}

/** What Registry reads from a metric: prom-client's metric object shape. */
interface Exported {
  name: string;
  help: string;
  type: "counter" | "histogram";
  aggregator: "sum";
  get(): Promise<{ name: string; help: string; type: string; values: ExportedValue[]; aggregator: "sum" }>;
  reset(): void;
}

export class RequestMetrics<L extends Record<string, string>> {
  private readonly series = new Map<string, Series<L>>();
  private readonly histograms: readonly HistogramSpec[];

  /** `counter` counts requests; each histogram gets one value per request, in `histograms` order. */
  constructor(o: { registry: Registry; counter: { name: string; help: string }; histograms: readonly HistogramSpec[] }) {
    this.histograms = o.histograms;
    const exported: Exported[] = [
      this.exported(o.counter.name, o.counter.help, "counter", () => this.counterValues()),
      ...o.histograms.map((h, i) => this.exported(h.name, h.help, "histogram", () => this.histogramValues(h, i))),
    ];
    for (const m of exported) o.registry.registerMetric(m as unknown as Metric);
  }

  /** One request: counted once, one value per histogram. */
  record(labels: L, values: readonly number[]): void {
    let key = "";
    for (const k in labels) key += `${labels[k]}\u0000`;
    let s = this.series.get(key);
    if (!s) {
      s = { labels: { ...labels }, count: 0, hist: this.histograms.map((h) => ({ counts: new Array<number>(h.buckets.length + 1).fill(0), sum: 0 })) };
      this.series.set(key, s);
    }
    s.count++;
    for (let i = 0; i < this.histograms.length; i++) {
      const v = values[i] ?? 0;
      const bounds = this.histograms[i]!.buckets;
      const h = s.hist[i]!;
      let b = 0;
      while (b < bounds.length && v > bounds[b]!) b++;
      h.counts[b]!++;
      h.sum += v;
    }
  }

  private exported(name: string, help: string, type: "counter" | "histogram", values: () => ExportedValue[]): Exported {
    return {
      name,
      help,
      type,
      aggregator: "sum",
      get: async () => ({ name, help, type, values: values(), aggregator: "sum" }),
      reset: () => this.series.clear(),
    };
  }

  private counterValues(): ExportedValue[] {
    return [...this.series.values()].map((s) => ({ labels: s.labels, value: s.count }));
  }

  // As prom-client writes a histogram: cumulative buckets with `le` before the series' labels, then
  // +Inf, _sum and _count.
  private histogramValues(h: HistogramSpec, i: number): ExportedValue[] {
    const out: ExportedValue[] = [];
    const bucket = `${h.name}_bucket`;
    for (const s of this.series.values()) {
      const { counts, sum } = s.hist[i]!;
      let acc = 0;
      h.buckets.forEach((le, b) => {
        acc += counts[b]!;
        out.push({ labels: { le }, sharedLabels: s.labels, value: acc, metricName: bucket });
      });
      out.push(
        { labels: { le: "+Inf" }, sharedLabels: s.labels, value: s.count, metricName: bucket },
        { labels: {}, sharedLabels: s.labels, value: sum, metricName: `${h.name}_sum` },
        { labels: {}, sharedLabels: s.labels, value: s.count, metricName: `${h.name}_count` },
      );
    }
    return out;
  }
}
