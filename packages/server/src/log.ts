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
  /** Where lines go, each written as it comes; by default stderr, in bursts (see burstWriter). */
  out?: { write(line: string): unknown };
}

/** A burst of log lines is written once it holds this much, without waiting for its turn's end. */
export const LOG_BURST_MAX_BYTES = 64 * 1024;

/**
 * Lines to stderr gathered through one turn of the event loop and written together. stderr is a
 * synchronous write (a file or a pipe), ~80 µs each on these VMs: one per finished transfer was
 * 15 % of a small put's server CPU. A line waits at most until the loop's next turn, and what is
 * held is written when the process exits; only a SIGKILL loses a turn's lines.
 */
function burstWriter(stream: NodeJS.WriteStream): LineOut {
  let held: string[] = [];
  let bytes = 0;
  const flush = () => {
    if (held.length === 0) return;
    const text = held.join("");
    held = [];
    bytes = 0;
    stream.write(text);
  };
  process.on("exit", flush);
  return {
    write(line) {
      if (held.length === 0) setImmediate(flush);
      held.push(line);
      bytes += line.length;
      if (bytes >= LOG_BURST_MAX_BYTES) flush();
    },
  };
}

type LineOut = { write(line: string): void };

/** One writer for stderr, whatever the number of loggers: one exit hook, lines in one order. */
let stderrBursts: LineOut | null = null;

function stderrWriter(): LineOut {
  stderrBursts ??= burstWriter(process.stderr);
  return stderrBursts;
}

/** One line per event to `out` (stderr by default), as `key=value` text or JSON lines. */
export function createStreamLogger(options: StreamLoggerOptions = {}): Logger {
  const min = LOG_LEVELS.indexOf(options.level ?? "info");
  const format = options.format ?? "text";
  const out = options.out ?? stderrWriter();
  return {
    log(level, msg, fields = {}) {
      if (LOG_LEVELS.indexOf(level) < min) return;
      const time = new Date().toISOString();
      if (format === "json") {
        out.write(`${JSON.stringify({ time, level, msg, ...fields })}\n`);
        return;
      }
      // One string built in place: a line per finished transfer makes this a small put's hot path.
      let line = `${time} ${level.toUpperCase()} ${msg}`;
      for (const key in fields) {
        const value = fields[key];
        if (value !== undefined) line += ` ${key}=${textValue(value)}`;
      }
      out.write(`${line}\n`);
    },
  };
}

/** Bare words stay bare; anything with spaces, quotes or control characters is JSON-quoted. */
function textValue(value: unknown): string {
  // A finite number prints as JSON would, and is always a bare word.
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  const s = typeof value === "string" ? value : JSON.stringify(value);
  return /^[\w./:@+-]+$/.test(s) ? s : JSON.stringify(s);
}
