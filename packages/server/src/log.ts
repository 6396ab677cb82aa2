/** Severity of a log line; lines below the configured level are dropped. */
export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFormat = "text" | "json";
export const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error"];

/**
 * Where the server reports connection events and finished transfers. Fields are flat facts
 * (addr, cmd, path, bytes, seconds, mb_per_s, result); a secret never reaches a logger.
 */
export interface Logger {
  log(level: LogLevel, msg: string, fields?: Record<string, unknown>): void;
}

/** The in-process default: a library does not write to the terminal unless asked. */
export const silentLogger: Logger = { log() {} };

export interface StreamLoggerOptions {
  level?: LogLevel;
  format?: LogFormat;
  out?: { write(line: string): unknown };
}

/** One line per event to `out` (stderr by default), as `key=value` text or JSON lines. */
export function createStreamLogger(options: StreamLoggerOptions = {}): Logger {
  const min = LOG_LEVELS.indexOf(options.level ?? "info");
  const format = options.format ?? "text";
  const out = options.out ?? process.stderr;
  return {
    log(level, msg, fields = {}) {
      if (LOG_LEVELS.indexOf(level) < min) return;
      const time = new Date().toISOString();
      if (format === "json") {
        out.write(`${JSON.stringify({ time, level, msg, ...fields })}\n`);
        return;
      }
      const parts = Object.entries(fields)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => `${k}=${textValue(v)}`);
      out.write(`${time} ${level.toUpperCase()} ${msg}${parts.length ? ` ${parts.join(" ")}` : ""}\n`);
    },
  };
}

/** Bare words stay bare; anything with spaces, quotes or control characters is JSON-quoted. */
function textValue(value: unknown): string {
  const s = typeof value === "string" ? value : JSON.stringify(value);
  return /^[\w./:@+-]+$/.test(s) ? s : JSON.stringify(s);
}
