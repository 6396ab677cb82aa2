import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import readline from "node:readline";
import type { ReadStream, WriteStream } from "node:tty";
import { KnownHosts } from "../lib/index.js";
import { batchLines, quoteWord, splitCommands } from "./args.js";
import { completionSources } from "./completion.js";
import { CliError, describeError, localFileError } from "./errors.js";
import { historyFile } from "./history.js";
import { HostTrust } from "./host-trust.js";
import { processIo } from "./io.js";
import { HELP, type ParsedOptions, parseOptions } from "./options.js";
import { InquirerPrompter, NoPrompter } from "./prompts.js";
import { repl } from "./repl.js";
import { Runner } from "./runner.js";
import { CliState } from "./state.js";
import { CommandKeys } from "./terminal.js";

const EXIT_FAILURE = 1;
const EXIT_USAGE = 2;
const EXIT_INTERRUPTED = 130;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  return `ferry ${pkg.version}`;
}

/** Runs `!cmd`. The child gets the terminal; Ctrl-C is for it, not for us, while it runs. */
function runShell(
  command: string,
  cwd: string,
  interactive: boolean,
  keys: CommandKeys | null,
): Promise<number> {
  keys?.release();
  const ignore = (): void => {};
  process.on("SIGINT", ignore);
  return new Promise<number>((resolve) => {
    const child = spawn(command, {
      shell: true,
      cwd,
      // In batch mode stdin holds our own commands; the child must not eat them.
      stdio: interactive ? "inherit" : ["ignore", "inherit", "inherit"],
    });
    child.on("error", () => resolve(127));
    child.on("close", (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  }).finally(() => {
    process.off("SIGINT", ignore);
    keys?.reclaim();
  });
}

/** -c, -b and piped stdin: run line by line, stop at the first failure not prefixed with `-`. */
async function runLines(lines: Iterable<string> | AsyncIterable<string>, runner: Runner): Promise<number> {
  let current: AbortController | null = null;
  let interrupted = false;
  const onSigint = (): void => {
    interrupted = true;
    current?.abort();
  };
  process.on("SIGINT", onSigint);
  try {
    for await (const line of lines) {
      if (interrupted) return EXIT_INTERRUPTED;
      current = new AbortController();
      runner.remember(line);
      const result = await runner.run(line, current.signal);
      current = null;
      if (result.quit) return 0;
      if (!result.ok) return result.code === "EABORTED" || interrupted ? EXIT_INTERRUPTED : EXIT_FAILURE;
    }
    return interrupted ? EXIT_INTERRUPTED : 0;
  } finally {
    process.off("SIGINT", onSigint);
  }
}

async function* stdinLines(): AsyncIterable<string> {
  const rl = readline.createInterface({
    input: process.stdin,
    terminal: false,
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  for await (const line of rl) {
    const trimmed = line.trim();
    if (trimmed !== "" && !trimmed.startsWith("#")) yield trimmed;
  }
}

async function run(opts: ParsedOptions): Promise<number> {
  const io = processIo();
  const onTerminal = process.stdin.isTTY === true && process.stdout.isTTY === true;
  const interactive = onTerminal && opts.command === undefined && opts.batch === undefined;
  const keys = interactive ? new CommandKeys(process.stdin as ReadStream) : null;
  const prompter = onTerminal ? new InquirerPrompter(keys ?? undefined) : new NoPrompter();
  const trust = new HostTrust(
    { tls: opts.tls, knownHostsFile: opts.knownHostsFile, acceptNew: opts.acceptNew, ask: interactive },
    io,
  );
  const state = new CliState(process.cwd(), { secret: opts.secret, password: opts.password }, trust);
  state.limitRate = opts.limitRate;
  // Commands given up front go out behind the hello; at the prompt nobody is waiting for it.
  state.early = !interactive;
  state.hash = opts.hash;
  state.progress = opts.progress;
  // The batch file is read before anything else: a missing one fails at once, not after connecting.
  let batch: string[] | undefined;
  if (opts.batch !== undefined) {
    try {
      batch = batchLines(readFileSync(opts.batch, "utf8"));
    } catch (err) {
      const error = localFileError(err as NodeJS.ErrnoException, opts.batch, "batch file");
      io.err(`ferry: ${describeError(error)}`);
      return EXIT_USAGE;
    }
  }
  const runner = new Runner({
    state,
    options: { yes: opts.yes, progress: opts.progress, json: opts.json, port: opts.port },
    io,
    prompter,
    shell: (command, cwd) => runShell(command, cwd, interactive, keys),
    errorPrefix: interactive ? "" : "ferry: ",
  });

  try {
    if (opts.host !== undefined) {
      const opened = await runner.run(`open ${quoteWord(opts.host)}`, new AbortController().signal);
      if (!opened.ok) return EXIT_FAILURE;
    }
    // An early open's outcome is reported before the process ends, even if no command needed it.
    const settled = async (code: number) => ((await runner.settleOpen()) ? code : EXIT_FAILURE);
    if (opts.command !== undefined) return await settled(await runLines(splitCommands(opts.command), runner));
    if (batch !== undefined) return await settled(await runLines(batch, runner));
    if (!interactive || !keys) return await settled(await runLines(stdinLines(), runner));
    await repl({
      input: process.stdin as ReadStream,
      output: process.stdout as WriteStream,
      runner,
      keys,
      sources: completionSources(state),
      historyFile: historyFile(),
    });
    return 0;
  } finally {
    // The process ends next: waiting for the answer to bye would only cost a round trip.
    await state.close({ wait: false });
  }
}

/** `ferry --forget-host HOST[:PORT]`: drops the host's known_hosts entries, as `ssh-keygen -R` does. */
async function forgetHost(file: string, target: { host: string; port: number }): Promise<number> {
  const name = `${target.host.includes(":") ? `[${target.host}]` : target.host}:${target.port}`;
  try {
    const removed = await new KnownHosts(file).remove(target.host, target.port);
    if (removed === 0) {
      process.stderr.write(`ferry: ${name} is not in ${file}\n`);
      return EXIT_FAILURE;
    }
    process.stdout.write(
      `removed ${name} from ${file} (${removed} ${removed === 1 ? "entry" : "entries"})\n`,
    );
    return 0;
  } catch (err) {
    process.stderr.write(`ferry: ${describeError(err)}\n`);
    return EXIT_FAILURE;
  }
}

async function main(argv: string[]): Promise<number> {
  let opts: ParsedOptions;
  try {
    opts = parseOptions(argv, process.env);
  } catch (err) {
    process.stderr.write(`ferry: ${err instanceof CliError ? err.message : describeError(err)}\n`);
    process.stderr.write("try ferry --help\n");
    return EXIT_USAGE;
  }
  if (opts.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  if (opts.version) {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  if (opts.forgetHost) return forgetHost(opts.knownHostsFile, opts.forgetHost);
  return run(opts);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // A terminal or socket handle left behind must not keep a finished command alive.
    setTimeout(() => process.exit(code), 200).unref();
  },
  (err: unknown) => {
    // Only a bug lands here; still one line, no stack trace, unless FERRY_DEBUG asks for it.
    process.stderr.write(`ferry: ${describeError(err)}\n`);
    if (process.env.FERRY_DEBUG) process.stderr.write(`${(err as Error)?.stack ?? ""}\n`);
    process.exit(EXIT_FAILURE);
  },
);
