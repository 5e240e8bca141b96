// The control plane's admin port (15014): debug views, metrics and readiness.
import { sortedJson, type Handler } from "../../shared/index.ts";
import type { Readiness } from "../../shared/index.ts";
import type { ControlPlaneMetrics } from "../push/metrics.ts";

export interface AdminSources {
  configDump: () => unknown;
  connections: () => unknown;
  metrics: ControlPlaneMetrics;
  readiness: Readiness;
}

const json = (body: unknown) => ({ status: 200, body: sortedJson(body), type: "application/json" });

export function controlPlaneAdmin(s: AdminSources): Handler {
  return async (_req, url) => {
    switch (url.pathname) {
      case "/debug/config_dump":
        return json(s.configDump());
      case "/debug/connections":
        return json(s.connections());
      case "/metrics":
        return { status: 200, body: await s.metrics.registry.metrics(), type: s.metrics.registry.contentType };
      case "/ready":
        return s.readiness.ready ? { status: 200, body: "ready\n" } : { status: 503, body: `not ready: waiting for ${s.readiness.waitingFor.join(", ")}\n` };
      default:
        return { status: 404, body: "endpoints: /debug/config_dump /debug/connections /metrics /ready\n" };
    }
  };
}
