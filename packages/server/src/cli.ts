import { realpath } from "node:fs/promises";
import { FerryError, fingerprintHex } from "@ferry/protocol";
import { runUserCommand, UserUsageError } from "./accounts/user-cli.js";
import { parseCli, UsageError } from "./cli-options.js";
import { startServer } from "./server.js";
import { localPathOf } from "./storage/open.js";
import { resolveIdentity } from "./tls/identity.js";
import { SERVER_NAME, SERVER_VERSION } from "./version.js";

/** Signals this close together are one request to stop (see `stop` below); a later one is "now". */
const SAME_SIGNAL_MS = 1_000;

/** `ferryd user ...`: edits the users file and exits. */
async function userCommand(argv: string[]): Promise<number> {
  try {
    await runUserCommand(argv, {
      env: process.env,
      stdin: process.stdin,
      prompts: process.stderr,
      out: (line) => process.stdout.write(line.endsWith("\n") ? line : `${line}\n`),
    });
    return 0;
  } catch (err) {
    if (err instanceof UserUsageError) {
      process.stderr.write(`ferryd user: ${err.message}\nTry 'ferryd user --help'.\n`);
      return 2;
    }
    const message = err instanceof FerryError ? err.message : String(err);
    process.stderr.write(`ferryd user: error: ${message}\n`);
    return 1;
  }
}

/** The ferryd entry point: the only place that prints to stdout or exits. */
async function main(): Promise<number> {
  if (process.argv[2] === "user") return userCommand(process.argv.slice(3));
  let parsed: ReturnType<typeof parseCli>;
  try {
    parsed = parseCli(process.argv.slice(2), process.env);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`ferryd: ${err.message}\nTry 'ferryd --help'.\n`);
    return 2;
  }
  if (parsed.kind === "help") {
    process.stdout.write(parsed.text);
    return 0;
  }
  if (parsed.kind === "version") {
    process.stdout.write(`${SERVER_NAME} ${SERVER_VERSION}\n`);
    return 0;
  }
  if (parsed.kind === "fingerprint") {
    // Creates the certificate if this state directory has none yet, so it can be pinned before the
    // first start; the root (when given and present) is checked as a start would.
    const local = parsed.root === undefined ? null : localPathOf(parsed.root);
    const root = local === null ? null : await realpath(local).catch(() => null);
    const identity = await resolveIdentity(parsed.tls, root).catch((err: unknown) => {
      process.stderr.write(`ferryd: error: ${err instanceof FerryError ? err.message : String(err)}\n`);
      return null;
    });
    if (!identity) return 1;
    process.stdout.write(`${identity.fingerprint}\n`);
    return 0;
  }
  const server = await startServer(parsed.options).catch((err: unknown) => {
    const message = err instanceof FerryError ? err.message : String(err);
    process.stderr.write(`ferryd: error: ${message}\n`);
    return null;
  });
  if (!server) return 1;
  const host = server.host.includes(":") ? `[${server.host}]` : server.host;
  // The first line is what tools parse; keep it exactly as it is.
  process.stdout.write(`listening on ${host}:${server.port}\n`);
  if (server.fingerprint !== null) {
    process.stdout.write(`fingerprint ${server.fingerprint} (hex ${fingerprintHex(server.fingerprint)})\n`);
  }
  return new Promise<number>((resolve) => {
    let firstAt: number | null = null;
    const stop = (signal: NodeJS.Signals) => {
      if (firstAt !== null) {
        // One Ctrl-C under `pnpm exec ferryd` arrives twice: from the terminal (to the whole process
        // group) and forwarded by pnpm. A second signal that close to the first is the same keypress.
        if (Date.now() - firstAt < SAME_SIGNAL_MS) return;
        process.stderr.write(`ferryd: ${signal} again, exiting now\n`);
        resolve(130);
        return;
      }
      firstAt = Date.now();
      parsed.options.logger?.log("info", "shutting down", { signal });
      server.close().then(
        () => resolve(0),
        () => resolve(1),
      );
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
    // Reload the users file; the outcome is logged by the server, one line.
    process.on("SIGHUP", () => void server.reload());
  });
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`ferryd: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  },
);
