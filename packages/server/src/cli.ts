import { realpath } from "node:fs/promises";
import { FerryError, fingerprintHex } from "@ferry/protocol";
import { parseCli, UsageError } from "./cli-options.js";
import { startServer } from "./server.js";
import { resolveIdentity } from "./tls/identity.js";
import { SERVER_NAME, SERVER_VERSION } from "./version.js";

/** The ferryd entry point: the only place that prints to stdout or exits. */
async function main(): Promise<number> {
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
    const root = parsed.root === undefined ? null : await realpath(parsed.root).catch(() => null);
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
    const made = server.certCreated ? `, new certificate in ${server.certFile}` : "";
    process.stdout.write(
      `fingerprint ${server.fingerprint} (hex ${fingerprintHex(server.fingerprint)}${made})\n`,
    );
  }
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        process.stderr.write(`ferryd: ${signal} again, exiting now\n`);
        resolve(130);
        return;
      }
      stopping = true;
      parsed.options.logger?.log("info", "shutting down", { signal });
      server.close().then(
        () => resolve(0),
        () => resolve(1),
      );
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`ferryd: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  },
);
