import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { benchmarkJob, parseBenchLog, parsePromScalar, prometheusQueryPath, proxyUsageQueries, scriptConfigMap } from "./benchmark.ts";
import { validateObject } from "./validate.ts";

const settings = { rate: 1000, duration: "60s", connections: 4, payloadBytes: 1024, k6Version: "1.1.0" };

describe("benchmark manifests", () => {
  it("one Job per mode, preferring the load-generator node, no retries, valid", () => {
    const job = benchmarkJob("ambient", settings);
    validateObject(job);
    validateObject(scriptConfigMap("ambient-demo", "export default function () {}"));
    expect(job.metadata.namespace).toBe("ambient-demo");
    const spec = job.spec as {
      backoffLimit: number;
      template: {
        spec: { nodeSelector?: Record<string, string>; affinity?: unknown; containers: Array<{ image: string; env: Array<{ name: string; value: string }> }> };
      };
    };
    expect(spec.backoffLimit).toBe(0);
    // A preference, so the Job also schedules on clusters without our load-generator node (issue 10, problem 3).
    expect(spec.template.spec.nodeSelector).toBeUndefined();
    expect(JSON.stringify(spec.template.spec.affinity)).toMatch(/preferredDuringSchedulingIgnoredDuringExecution.*ambient-lab\.io\/role/);
    expect(JSON.stringify(spec.template.spec.affinity)).not.toContain("requiredDuringScheduling");
    expect(spec.template.spec.containers[0]!.image).toBe("grafana/k6:1.1.0");
    expect(spec.template.spec.containers[0]!.env).toContainEqual({
      name: "TARGET_URL",
      value: "http://httpbin.ambient-demo.svc.cluster.local:8000/bytes/1024",
    });
  });

  it("reads the summary marker line from a k6 log", () => {
    const log = readFileSync(join(import.meta.dirname, "testdata", "k6-ambient.log"), "utf8");
    expect(parseBenchLog(log)).toEqual({
      mode: "ambient",
      date: "2026-11-22T10:01:02.345Z",
      requestedRate: 1000,
      achievedRate: 999.6,
      requests: 59976,
      errorRate: 0,
      droppedIterations: 24,
      latencyMs: { p50: 0.91, p90: 1.62, p95: 2.05, p99: 4.8, max: 37.2 },
    });
    expect(() => parseBenchLog('level=error msg="could not connect"\n')).toThrow(/no AMBIENT_LAB_SUMMARY line[\s\S]*could not connect/);
  });

  it("queries Prometheus through the API server for the ztunnels' and waypoints' CPU and memory", () => {
    const q = proxyUsageQueries("65s");
    expect(q.cpuCores).toBe('sum(rate(container_cpu_usage_seconds_total{container=~"ztunnel|waypoint|ambient-lab-proxy"}[65s]))');
    expect(prometheusQueryPath("monitoring", "kps-prometheus", "up")).toBe(
      "/api/v1/namespaces/monitoring/services/kps-prometheus:9090/proxy/api/v1/query?query=up",
    );
    expect(parsePromScalar('{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1700000000,"0.083"]}]}}')).toBe(0.083);
    expect(parsePromScalar('{"status":"success","data":{"resultType":"vector","result":[]}}')).toBeNull();
    expect(() => parsePromScalar('{"status":"error","error":"bad query"}')).toThrow(/Prometheus query failed/);
  });
});
