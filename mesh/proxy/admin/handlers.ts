// The admin (127.0.0.1:15000), metrics (15020) and readiness (15021) endpoints of one ztunnel.
import type { IncomingMessage } from "node:http";
import { sortedJson, type Handler } from "../../shared/index.ts";
import type { Readiness } from "../../shared/index.ts";
import { LOG_LEVELS, type Logger, type LogLevel } from "../../shared/index.ts";
import type { Registry } from "prom-client";

export interface AdminDeps {
  log: Logger;
  /** Loggers whose level /logging changes together. */
  loggers: Logger[];
  configDump: () => unknown;
  quit: () => void;
}

const json = (body: unknown, status = 200) => ({ status, body: sortedJson(body), type: "application/json" });

export function adminHandler(deps: AdminDeps): Handler {
  return async (req: IncomingMessage, url: URL) => {
    switch (url.pathname) {
      case "/":
        return { status: 200, body: "ztunnel admin: /config_dump /logging /quitquitquit\n" };
      case "/config_dump":
        return json(deps.configDump());
      case "/logging": {
        const level = url.searchParams.get("level");
        if (level !== null) {
          if (req.method !== "POST") return { status: 405, body: "use POST to change the log level\n" };
          if (!LOG_LEVELS.includes(level as LogLevel)) {
            return { status: 400, body: `unknown level "${level}"; use one of ${LOG_LEVELS.join(", ")}\n` };
          }
          for (const l of deps.loggers) l.level = level;
          deps.log.info({ level }, "log level changed");
        }
        return json({ level: deps.log.level });
      }
      case "/quitquitquit":
        if (req.method !== "POST") return { status: 405, body: "use POST /quitquitquit\n" };
        setImmediate(deps.quit);
        return { status: 200, body: "draining and exiting\n" };
      default:
        return { status: 404, body: `no such endpoint: ${url.pathname}\n` };
    }
  };
}

export function metricsHandler(metrics: { registry: Registry }): Handler {
  return async (_req, url) => {
    if (url.pathname !== "/metrics" && url.pathname !== "/stats/prometheus") return { status: 404, body: "try /metrics\n" };
    return { status: 200, body: await metrics.registry.metrics(), type: metrics.registry.contentType };
  };
}

export function readinessHandler(readiness: Readiness): Handler {
  return async (_req, url) => {
    if (url.pathname !== "/healthz/ready") return { status: 404, body: "try /healthz/ready\n" };
    if (readiness.ready) return { status: 200, body: "ready\n" };
    return { status: 503, body: `not ready: waiting for ${readiness.waitingFor.join(", ")}\n` };
  };
}
