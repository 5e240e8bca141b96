// The process-wide structured logger. Field names are the same everywhere:
// `src.identity`, `dst.addr`, `conn.id`, `resource`, `reason`.
import { pino, type Logger, type DestinationStream } from "pino";

export type { Logger };

export type LogLevel = "trace" | "debug" | "info" | "warn" | "error";

export const LOG_LEVELS: readonly LogLevel[] = ["trace", "debug", "info", "warn", "error"];

export function createLogger(opts: { component: string; level?: LogLevel; destination?: DestinationStream }): Logger {
  return pino(
    {
      level: opts.level ?? "info",
      base: { component: opts.component },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    opts.destination ?? pino.destination({ fd: 1, sync: false }),
  );
}

/** A logger that drops everything: for unit tests that do not look at logs. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}

/** Collects log records in memory so tests can assert on what was logged. */
export function memoryLogger(level: LogLevel = "debug"): { logger: Logger; records: Array<Record<string, unknown>> } {
  const records: Array<Record<string, unknown>> = [];
  const destination: DestinationStream = {
    write(line: string) {
      records.push(JSON.parse(line) as Record<string, unknown>);
    },
  };
  const logger = pino({ level, formatters: { level: (label) => ({ level: label }) } }, destination);
  return { logger, records };
}
