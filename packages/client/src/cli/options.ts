import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import {
  HASH_ALGORITHMS,
  type HashAlgorithm,
  isHashAlgorithm,
  normalizeFingerprint,
  parseByteRate,
} from "../lib/index.js";
import { localFileError, usage } from "./errors.js";
import { parseHostPort, parsePort } from "./paths.js";

export const DEFAULT_PORT = 2121;

export const HELP = `usage: ferry [options] [[user@]host[:port]]

Copies files to and from a ferryd server. Without -c or -b: an interactive ftp> prompt on a
terminal, or one command per line from stdin.

options:
  --port PORT          port when the host has none (default ${DEFAULT_PORT})
  --secret-file FILE   read the shared secret from FILE (or set FERRY_SECRET)
  --password-file FILE read the password of user@host from FILE (or set FERRY_PASSWORD);
                       without either, ferry asks on the terminal
  --fingerprint FP     trust only the server certificate with this fingerprint, SHA256:...
                       as ferryd prints it (or FERRY_FINGERPRINT); known_hosts is not used
  --accept-new         trust a server seen for the first time without asking, and record it
  --ca FILE            trust certificates issued by this CA (PEM) for the host name instead
  --known-hosts FILE   trusted servers (default ~/.ferry/known_hosts, or FERRY_KNOWN_HOSTS)
  --forget-host HOST[:PORT]  remove HOST's entries from known_hosts and exit
  --no-tls             plain TCP, for a server started with ferryd --no-tls
  --limit-rate RATE    at most RATE bytes per second each way for the session, e.g. 500K, 10M
  --hash ALG           verify transfers (put, get, mput, mget, mirror) and answer sum with ALG:
                       md5 (default, every server has it), sha256, or xxh128 (fastest); a server
                       without ALG is an error, never a silent md5
  -c "CMD; CMD"        run these commands and exit (several -c run in order)
  -b FILE              run the commands in FILE (one per line, # comments) and exit
  -y, --yes            answer yes to overwrite and delete questions
  --no-progress        no progress bars
  --json               JSON lines for ls, stat, transfers and errors
  -h, --help           this help
  -V, --version        print the version

Connections use TLS 1.3. A server is trusted by --fingerprint, by --ca, or by its known_hosts entry;
one seen for the first time is asked about at the ftp> prompt, and refused in -c, -b and stdin mode
unless --fingerprint or --accept-new is given. A changed certificate is always refused.

In -c, -b and stdin mode ferry stops at the first failing command; prefix a command with - to go on.
Exit status: 0 when every command succeeded, 1 when one failed, 2 for bad options, 130 on Ctrl-C.
Type help at the prompt for the commands.`;

export type Mode = { kind: "commands"; lines: string[] } | { kind: "batch"; file: string } | { kind: "auto" };

export interface ParsedOptions {
  help: boolean;
  version: boolean;
  host: string | undefined;
  port: number;
  secret: string | undefined;
  /** For a server with accounts; never taken from argv (it would show in ps). */
  password: string | undefined;
  yes: boolean;
  progress: boolean;
  json: boolean;
  /** The commands of -c, one line per -c when it was given more than once. */
  command: string | undefined;
  batch: string | undefined;
  /** false: plain TCP. */
  tls: false | { fingerprint?: string; ca?: string };
  acceptNew: boolean;
  knownHostsFile: string;
  /** `--forget-host`: what to remove from known_hosts (then exit). */
  forgetHost: { host: string; port: number } | undefined;
  /** `--limit-rate`: bytes per second, each direction. */
  limitRate: number | undefined;
  /** `--hash`: the algorithm of every session this process opens; undefined: md5. */
  hash: HashAlgorithm | undefined;
}

/** `FERRY_KNOWN_HOSTS`, or `~/.ferry/known_hosts`. */
export function defaultKnownHostsFile(env: NodeJS.ProcessEnv): string {
  return env.FERRY_KNOWN_HOSTS || path.join(env.HOME || homedir(), ".ferry", "known_hosts");
}

const VALUE_OPTIONS: Record<string, string> = {
  "-c": "--command",
  "--command": "--command",
  "-b": "--batch",
  "--batch": "--batch",
  "--port": "--port",
  "--secret-file": "--secret-file",
  "--password-file": "--password-file",
  "--fingerprint": "--fingerprint",
  "--ca": "--ca",
  "--known-hosts": "--known-hosts",
  "--forget-host": "--forget-host",
  "--limit-rate": "--limit-rate",
  "--hash": "--hash",
};

/**
 * `-c "-rm x; ls"`: parseArgs refuses a value that starts with a dash as ambiguous, but a leading
 * `-` is how a command says "go on after a failure". Options that take a value always take the next
 * word, so it is joined as `--command=...` first.
 */
function joinValues(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--") {
      out.push(...argv.slice(i));
      break;
    }
    const long = VALUE_OPTIONS[arg];
    if (long !== undefined && i + 1 < argv.length) out.push(`${long}=${argv[++i]}`);
    else out.push(arg);
  }
  return out;
}

/**
 * node:util's parseArgs explains itself in sentences with quotes around the option and a hint about
 * `--` ("Unknown option '--bogus'. To specify a positional argument ..."): one short line instead.
 */
function parseArgsReason(err: unknown): string {
  const code = (err as { code?: string }).code;
  const message = err instanceof Error ? err.message : String(err);
  const option = /'(-[^' ]+)/.exec(message)?.[1];
  if (option !== undefined && code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") return `unknown option ${option}`;
  if (option !== undefined && code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
    return /argument missing/.test(message)
      ? `option ${option} needs a value`
      : `option ${option} takes no value`;
  }
  return message.split(". ")[0] ?? message;
}

/** Reads argv (without node and the script). Throws EUSAGE with a one-line reason. */
export function parseOptions(argv: string[], env: NodeJS.ProcessEnv): ParsedOptions {
  let values: Record<string, string | string[] | boolean | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: joinValues(argv),
      allowPositionals: true,
      strict: true,
      options: {
        port: { type: "string" },
        "secret-file": { type: "string" },
        "password-file": { type: "string" },
        fingerprint: { type: "string" },
        "accept-new": { type: "boolean" },
        ca: { type: "string" },
        "known-hosts": { type: "string" },
        "forget-host": { type: "string" },
        "no-tls": { type: "boolean" },
        "limit-rate": { type: "string" },
        hash: { type: "string" },
        // Every -c runs, in order: dropping all but the last would lose commands without a word.
        command: { type: "string", short: "c", multiple: true },
        batch: { type: "string", short: "b", multiple: true },
        yes: { type: "boolean", short: "y" },
        "no-progress": { type: "boolean" },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
        version: { type: "boolean", short: "V" },
      },
    }));
  } catch (err) {
    throw usage(parseArgsReason(err));
  }
  if (positionals.length > 1) throw usage(`one host expected, got ${positionals.length}`);
  if (values.command !== undefined && values.batch !== undefined) throw usage("-c and -b cannot be combined");
  const commands = values.command as string[] | undefined;
  const batches = values.batch as string[] | undefined;
  if (batches !== undefined && batches.length > 1) throw usage("-b takes one file; give it once");
  const port = typeof values.port === "string" ? parsePort(values.port) : DEFAULT_PORT;
  let secret = env.FERRY_SECRET || undefined;
  const secretFile = values["secret-file"];
  if (typeof secretFile === "string") {
    try {
      // A trailing newline from `echo secret > file` is not part of the secret.
      secret = readFileSync(secretFile, "utf8").replace(/\r?\n$/, "");
    } catch (err) {
      throw usage(localFileError(err as NodeJS.ErrnoException, secretFile, "--secret-file").message, err);
    }
  }
  const rateText = values["limit-rate"];
  let limitRate: number | undefined;
  if (typeof rateText === "string") {
    limitRate = parseByteRate(rateText) ?? undefined;
    if (limitRate === undefined)
      throw usage(`--limit-rate ${rateText}: not a rate (bytes per second, e.g. 500K, 10M)`);
  }
  const hashText = values.hash;
  let hash: HashAlgorithm | undefined;
  if (typeof hashText === "string") {
    if (!isHashAlgorithm(hashText))
      throw usage(`--hash ${hashText}: not one of ${HASH_ALGORITHMS.join(", ")}`);
    hash = hashText;
  }
  let password = env.FERRY_PASSWORD || undefined;
  const passwordFile = values["password-file"];
  if (typeof passwordFile === "string") {
    try {
      password = readFileSync(passwordFile, "utf8").replace(/\r?\n$/, "");
    } catch (err) {
      throw usage(localFileError(err as NodeJS.ErrnoException, passwordFile, "--password-file").message, err);
    }
  }
  return {
    ...transportOptions(values, env),
    limitRate,
    hash,
    port,
    help: values.help === true,
    version: values.version === true,
    host: positionals[0],
    secret,
    password,
    yes: values.yes === true,
    progress: values["no-progress"] !== true,
    json: values.json === true,
    command: commands?.join("\n"),
    batch: batches?.[0],
  };
}

function transportOptions(
  values: Record<string, string | string[] | boolean | undefined>,
  env: NodeJS.ProcessEnv,
): Pick<ParsedOptions, "tls" | "acceptNew" | "knownHostsFile" | "forgetHost"> {
  const str = (name: string) => (typeof values[name] === "string" ? (values[name] as string) : undefined);
  const port = typeof values.port === "string" ? parsePort(values.port) : DEFAULT_PORT;
  const pinText = str("fingerprint") ?? (env.FERRY_FINGERPRINT || undefined);
  const caFile = str("ca");
  const acceptNew = values["accept-new"] === true;
  const knownHostsFile = str("known-hosts") ?? defaultKnownHostsFile(env);
  const forget = str("forget-host");
  const forgetHost = forget === undefined ? undefined : parseHostPort(forget, port);
  if (values["no-tls"] === true) {
    const clash = [
      str("fingerprint") && "--fingerprint",
      caFile && "--ca",
      acceptNew && "--accept-new",
    ].filter(Boolean);
    if (clash.length > 0) throw usage(`--no-tls and ${clash.join(", ")} contradict each other`);
    return { tls: false, acceptNew, knownHostsFile, forgetHost };
  }
  if (pinText !== undefined && caFile !== undefined)
    throw usage("--fingerprint and --ca contradict each other");
  if (pinText !== undefined) {
    const fingerprint = normalizeFingerprint(pinText);
    if (!fingerprint) {
      throw usage(
        `--fingerprint ${pinText}: not a certificate fingerprint (SHA256:... as ferryd prints it, or hex)`,
      );
    }
    return { tls: { fingerprint }, acceptNew, knownHostsFile, forgetHost };
  }
  if (caFile !== undefined) {
    let ca: string;
    try {
      ca = readFileSync(caFile, "utf8");
    } catch (err) {
      throw usage(localFileError(err as NodeJS.ErrnoException, caFile, "--ca").message, err);
    }
    if (!ca.includes("-----BEGIN CERTIFICATE-----")) throw usage(`--ca ${caFile}: no PEM certificate in it`);
    return { tls: { ca }, acceptNew, knownHostsFile, forgetHost };
  }
  return { tls: {}, acceptNew, knownHostsFile, forgetHost };
}
