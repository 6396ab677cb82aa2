import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { parseByteRate } from "@ferry/protocol";
import { createStreamLogger, LOG_LEVELS, type LogFormat, type LogLevel } from "./log.js";
import { DEFAULTS, type ServerOptions, type TlsServerOptions } from "./options.js";
import { parseSize } from "./sizes.js";

/** Each option: its flag, its environment variable, and the line --help prints. */
const SPEC = {
  root: {
    type: "string",
    env: "FERRY_ROOT",
    arg: "DIR",
    help: "directory to serve (created if missing); required without --users",
  },
  storage: {
    type: "string",
    env: "FERRY_STORAGE",
    arg: "SPEC",
    help: "what to serve instead of --root: a directory (PATH or file:PATH) or s3://BUCKET[/PREFIX]",
  },
  "s3-endpoint": {
    type: "string",
    env: "FERRY_S3_ENDPOINT",
    arg: "URL",
    help: "with s3://: the store's URL, e.g. http://127.0.0.1:7480 (default AWS); keys from AWS_* env",
  },
  "s3-region": {
    type: "string",
    env: "FERRY_S3_REGION",
    arg: "R",
    help: "with s3://: the region (default AWS_REGION, else us-east-1)",
  },
  "s3-part-size": {
    type: "string",
    env: "FERRY_S3_PART_SIZE",
    arg: "BYTES",
    help: "with s3://: bytes per multipart part, at least 5M (default 8M)",
  },
  "s3-parts-in-flight": {
    type: "string",
    env: "FERRY_S3_PARTS_IN_FLIGHT",
    arg: "N",
    help: "with s3://: parts of one upload sent at once (default 2); memory per upload: part size × (N + 1)",
  },
  users: {
    type: "string",
    env: "FERRY_USERS",
    arg: "FILE",
    help: "accounts: clients log in as a user of FILE, each in their own root (see ferryd user --help)",
  },
  "no-watch-users": {
    type: "boolean",
    env: "FERRY_NO_WATCH_USERS",
    help: "reload the users file only on SIGHUP, not whenever it changes",
  },
  host: {
    type: "string",
    env: "FERRY_HOST",
    arg: "ADDR",
    help: `address to listen on (default ${DEFAULTS.host})`,
  },
  port: {
    type: "string",
    env: "FERRY_PORT",
    arg: "N",
    help: `TCP port, 0 = any free port (default ${DEFAULTS.port})`,
  },
  "secret-file": {
    type: "string",
    env: "FERRY_SECRET_FILE",
    arg: "FILE",
    help: "file holding the shared secret (or set FERRY_SECRET); clients must authenticate",
  },
  "max-connections": {
    type: "string",
    env: "FERRY_MAX_CONNECTIONS",
    arg: "N",
    help: `connections at once (default ${DEFAULTS.maxConnections})`,
  },
  "max-per-ip": {
    type: "string",
    env: "FERRY_MAX_PER_IP",
    arg: "N",
    help: `connections per client address (default ${DEFAULTS.maxPerIp})`,
  },
  "idle-timeout": {
    type: "string",
    env: "FERRY_IDLE_TIMEOUT",
    arg: "SECONDS",
    help: `close connections silent this long (default ${DEFAULTS.idleTimeoutMs / 1000})`,
  },
  "header-timeout": {
    type: "string",
    env: "FERRY_HEADER_TIMEOUT",
    arg: "SECONDS",
    help: `a frame header must arrive whole within this time (default ${DEFAULTS.headerTimeoutMs / 1000})`,
  },
  "max-header": {
    type: "string",
    env: "FERRY_MAX_HEADER",
    arg: "BYTES",
    help: `largest frame header accepted (default ${DEFAULTS.maxHeaderBytes})`,
  },
  "max-file-size": {
    type: "string",
    env: "FERRY_MAX_FILE_SIZE",
    arg: "BYTES",
    help: "largest upload accepted, e.g. 500M, 10G (default: no limit)",
  },
  "max-rate": {
    type: "string",
    env: "FERRY_MAX_RATE",
    arg: "RATE",
    help: "bytes per second per connection, each direction, e.g. 10M, 500K (default: no limit)",
  },
  "max-list-memory": {
    type: "string",
    env: "FERRY_MAX_LIST_MEMORY",
    arg: "BYTES",
    help: `memory for the names of all listings in progress, beyond it EBUSY (default ${DEFAULTS.maxListMemory / 1024 ** 2}M)`,
  },
  "max-list-entries": {
    type: "string",
    env: "FERRY_MAX_LIST_ENTRIES",
    arg: "N",
    help: `largest directory that can be listed, in entries (default ${DEFAULTS.maxListEntries})`,
  },
  "read-only": {
    type: "boolean",
    env: "FERRY_READ_ONLY",
    help: "refuse every write (put, mkdir, delete, rename) with EACCES",
  },
  "no-fsync": {
    type: "boolean",
    env: "FERRY_NO_FSYNC",
    help: "do not fsync uploads before acknowledging them (faster, less durable)",
  },
  grace: {
    type: "string",
    env: "FERRY_GRACE",
    arg: "SECONDS",
    help: `on SIGINT/SIGTERM, time for running transfers to finish (default ${DEFAULTS.graceMs / 1000})`,
  },
  "stale-partial-hours": {
    type: "string",
    env: "FERRY_STALE_PARTIAL_HOURS",
    arg: "H",
    help: `remove interrupted uploads older than this (default ${DEFAULTS.stalePartialMs / 3600_000})`,
  },
  "tls-cert": {
    type: "string",
    env: "FERRY_TLS_CERT",
    arg: "FILE",
    help: "TLS certificate (PEM, then intermediates), e.g. CA-issued; with --tls-key",
  },
  "tls-key": {
    type: "string",
    env: "FERRY_TLS_KEY",
    arg: "FILE",
    help: "private key of --tls-cert (PEM)",
  },
  "state-dir": {
    type: "string",
    env: "FERRY_STATE_DIR",
    arg: "DIR",
    help: "where the self-signed certificate is made and kept (default $XDG_STATE_HOME/ferryd or ~/.local/state/ferryd)",
  },
  "no-tls": {
    type: "boolean",
    env: "FERRY_NO_TLS",
    help: "plain TCP instead of TLS 1.3 (loopback only, unless --insecure-plain)",
  },
  "insecure-plain": {
    type: "boolean",
    env: "FERRY_INSECURE_PLAIN",
    help: "allow --no-tls on a non-loopback --host",
  },
  "insecure-no-auth": {
    type: "boolean",
    env: "FERRY_INSECURE_NO_AUTH",
    help: "allow a non-loopback --host without a secret",
  },
  "log-level": {
    type: "string",
    env: "FERRY_LOG_LEVEL",
    arg: "LEVEL",
    help: "debug, info, warn or error (default info)",
  },
  "log-format": {
    type: "string",
    env: "FERRY_LOG_FORMAT",
    arg: "FORMAT",
    help: "text or json (default text)",
  },
  help: { type: "boolean", short: "h", help: "show this help" },
  version: { type: "boolean", short: "V", help: "print the version" },
} as const satisfies Record<
  string,
  { type: "string" | "boolean"; env?: string; arg?: string; short?: string; help: string }
>;

export type CliResult =
  | { kind: "help"; text: string }
  | { kind: "version" }
  | { kind: "fingerprint"; root: string | undefined; tls: TlsServerOptions }
  | { kind: "run"; options: ServerOptions & { logLevel: LogLevel; logFormat: LogFormat } };

export class UsageError extends Error {}

export function helpText(): string {
  const rows = Object.entries(SPEC).map(([name, s]) => {
    const short = "short" in s ? `-${s.short}, ` : "    ";
    const flag = `${short}--${name}${"arg" in s ? ` ${s.arg}` : ""}`;
    const env = "env" in s ? ` [${s.env}]` : "";
    return `  ${flag.padEnd(32)}${s.help}${env}`;
  });
  return [
    "usage: ferryd --root DIR [options]",
    "       ferryd --users FILE [options]",
    "       ferryd user add|passwd|del|list ... (see ferryd user --help)",
    "       ferryd fingerprint [--state-dir DIR | --tls-cert FILE]",
    "",
    "Serves one directory over the ferry protocol, in TLS 1.3 unless --no-tls. Prints",
    "`listening on HOST:PORT` on stdout once ready, then `fingerprint SHA256:...` (the certificate",
    "clients pin; `ferryd fingerprint` prints it alone). Logs go to stderr. Every option can also be",
    "set by the environment variable shown. FERRY_SECRET sets the secret directly. With --users,",
    "SIGHUP (or a change of FILE) reloads it.",
    "",
    "options:",
    ...rows,
    "",
  ].join("\n");
}

/** Reads argv and the environment (flags win) into server options; throws UsageError on bad input. */
export function parseCli(argv: string[], env: NodeJS.ProcessEnv): CliResult {
  const options = Object.fromEntries(
    Object.entries(SPEC).map(([name, s]) => [
      name,
      "short" in s ? { type: s.type, short: s.short } : { type: s.type },
    ]),
  );
  let values: Record<string, string | boolean | undefined>;
  let command: string | undefined;
  try {
    const parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: true });
    if (parsed.positionals.length > 1 || (parsed.positionals[0] ?? "fingerprint") !== "fingerprint") {
      throw new Error(`unexpected argument ${JSON.stringify(parsed.positionals.at(-1))}`);
    }
    command = parsed.positionals[0];
    // No option is `multiple`, so every value is a single string or boolean.
    values = parsed.values as Record<string, string | boolean | undefined>;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) return { kind: "help", text: helpText() };
  if (values.version) return { kind: "version" };
  const get = (name: keyof typeof SPEC): string | boolean | undefined => {
    if (values[name] !== undefined) return values[name];
    const s = SPEC[name];
    const raw = "env" in s ? env[s.env] : undefined;
    if (raw === undefined || raw === "") return undefined;
    if (s.type === "boolean") return !/^(0|false|no|off)$/i.test(raw);
    return raw;
  };
  const str = (name: keyof typeof SPEC) => get(name) as string | undefined;
  const bool = (name: keyof typeof SPEC) => get(name) === true;

  const tls = tlsOptions(str("tls-cert"), str("tls-key"), str("state-dir"));
  if (bool("no-tls") && values["tls-cert"] !== undefined) {
    throw new UsageError("--no-tls and --tls-cert contradict each other");
  }
  const storage = str("storage");
  if (storage !== undefined && str("root") !== undefined) {
    throw new UsageError("--root and --storage cannot be combined: --storage names what to serve");
  }
  const root = storage ?? str("root");
  if (command === "fingerprint") {
    if (bool("no-tls")) throw new UsageError("--no-tls: a plain-TCP server has no fingerprint");
    return { kind: "fingerprint", root, tls };
  }
  const users = str("users");
  if (!root && !users) throw new UsageError("--root DIR (or --users FILE) is required (or set FERRY_ROOT)");
  if (root && users) {
    throw new UsageError(
      "--root (or --storage) and --users cannot be combined: each user's root is in the users file",
    );
  }
  // Set but empty is a mistake (an unset variable in a deploy script), never a wish to run without auth.
  if (env.FERRY_SECRET === "")
    throw new UsageError("FERRY_SECRET is set but empty; unset it to run without auth");
  let secret = env.FERRY_SECRET;
  const secretFile = str("secret-file");
  if (secretFile) {
    try {
      secret = readFileSync(secretFile, "utf8").replace(/\r?\n$/, "");
    } catch (err) {
      throw new UsageError(`cannot read --secret-file: ${(err as Error).message}`, { cause: err });
    }
    if (!secret) throw new UsageError(`--secret-file ${secretFile} is empty`);
  }
  if (users && secret !== undefined) {
    throw new UsageError("a shared secret and --users cannot be combined: choose one way to log in");
  }
  const logLevel = (str("log-level") ?? "info") as LogLevel;
  if (!LOG_LEVELS.includes(logLevel))
    throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(", ")}`);
  const logFormat = (str("log-format") ?? "text") as LogFormat;
  if (logFormat !== "text" && logFormat !== "json") throw new UsageError("--log-format must be text or json");
  const seconds = (name: keyof typeof SPEC) => {
    const v = number(name, str(name), 0);
    return v === undefined ? undefined : v * 1000;
  };
  const staleHours = number("stale-partial-hours", str("stale-partial-hours"), 0);
  const maxFileSize = str("max-file-size");
  const maxRate = str("max-rate");
  const maxListMemory = str("max-list-memory");
  const s3PartSize = str("s3-part-size");
  const s3 = {
    endpoint: str("s3-endpoint"),
    region: str("s3-region"),
    partSize: s3PartSize === undefined ? undefined : bytes("s3-part-size", s3PartSize),
    partsInFlight: integer("s3-parts-in-flight", str("s3-parts-in-flight"), 1, 64),
  };
  if (s3.partSize !== undefined && s3.partSize < 5 * 1024 * 1024)
    throw new UsageError("--s3-part-size must be at least 5M (S3's smallest part)");
  return {
    kind: "run",
    options: {
      root,
      users,
      watchUsers: !bool("no-watch-users"),
      host: str("host"),
      port: integer("port", str("port"), 0, 65535),
      secret,
      maxConnections: integer("max-connections", str("max-connections"), 1),
      maxPerIp: integer("max-per-ip", str("max-per-ip"), 1),
      idleTimeoutMs: seconds("idle-timeout"),
      headerTimeoutMs: seconds("header-timeout"),
      maxHeaderBytes: integer("max-header", str("max-header"), 1024, 16 * 1024 * 1024),
      maxFileSize: maxFileSize === undefined ? undefined : bytes("max-file-size", maxFileSize),
      maxRate: maxRate === undefined ? undefined : rate("max-rate", maxRate),
      maxListMemory: maxListMemory === undefined ? undefined : bytes("max-list-memory", maxListMemory),
      maxListEntries: integer("max-list-entries", str("max-list-entries"), 1),
      readOnly: bool("read-only"),
      fsync: !bool("no-fsync"),
      graceMs: seconds("grace"),
      stalePartialMs: staleHours === undefined ? undefined : staleHours * 3600_000,
      insecureNoAuth: bool("insecure-no-auth"),
      tls: bool("no-tls") ? false : tls,
      insecurePlain: bool("insecure-plain"),
      logger: createStreamLogger({ level: logLevel, format: logFormat }),
      logLevel,
      logFormat,
      s3: Object.fromEntries(Object.entries(s3).filter(([, v]) => v !== undefined)),
    },
  };
}

function tlsOptions(
  certFile: string | undefined,
  keyFile: string | undefined,
  stateDir: string | undefined,
): TlsServerOptions {
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw new UsageError("--tls-cert and --tls-key go together");
  }
  if (certFile !== undefined && keyFile !== undefined) return { certFile, keyFile };
  return stateDir === undefined ? {} : { stateDir };
}

function number(name: string, raw: string | undefined, min: number): number | undefined {
  if (raw === undefined) return undefined;
  const v = Number(raw);
  if (!Number.isFinite(v) || v < min)
    throw new UsageError(`--${name} must be a number ≥ ${min}, not ${JSON.stringify(raw)}`);
  return v;
}

function integer(
  name: string,
  raw: string | undefined,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number | undefined {
  if (raw === undefined) return undefined;
  const v = Number(raw);
  if (!/^\d+$/.test(raw) || v < min || v > max) {
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}, not ${JSON.stringify(raw)}`);
  }
  return v;
}

function rate(name: string, raw: string): number {
  const v = parseByteRate(raw);
  if (v === null)
    throw new UsageError(`--${name} must be a rate like 500K or 10M (bytes/s), not ${JSON.stringify(raw)}`);
  return v;
}

function bytes(name: string, raw: string): number {
  const v = parseSize(raw);
  if (v === undefined)
    throw new UsageError(`--${name} must be a size like 1048576, 500M or 10G, not ${JSON.stringify(raw)}`);
  return v;
}
