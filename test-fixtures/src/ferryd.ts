import { type ChildProcess, spawn } from "node:child_process";
import { FERRYD_BIN } from "./paths.js";
import { killWhenTestEnds, stopProcess, track } from "./process-registry.js";
import { scratchDir } from "./temp-dir.js";

export interface SpawnFerrydOptions {
  /** Directory to serve; leave it out for a server with accounts (`args: ["--users", FILE]`). */
  root?: string;
  /**
   * Extra command-line arguments, after `--root R --port 0 --host 127.0.0.1 [--state-dir S]`. With
   * `--no-tls` the server speaks plain TCP; with `--tls-cert` it uses that certificate.
   */
  args?: string[];
  /**
   * Where ferryd keeps its self-signed certificate. Default: a fresh temp folder, so every server has
   * its own fingerprint; pass a running server's `stateDir` to restart it with the same one.
   */
  stateDir?: string;
  /** Port to listen on; default 0 (any free port). */
  port?: number;
  /** Extra environment variables (merged over this process's environment). */
  env?: NodeJS.ProcessEnv;
  /** How long to wait for the `listening on` line (default 20 s). */
  startTimeoutMs?: number;
}

export interface RunningFerryd {
  readonly host: string;
  readonly port: number;
  /** `SHA256:...` from the start-up line; null for a `--no-tls` server. */
  readonly fingerprint: string | null;
  /** The state directory it was started with (undefined with --no-tls or --tls-cert). */
  readonly stateDir: string | undefined;
  readonly proc: ChildProcess;
  /** Everything the server wrote to stderr so far (its log). */
  stderr(): string;
  /** Everything the server wrote to stdout so far. */
  stdout(): string;
  /** Sends `signal` (default SIGTERM), SIGKILL after 10 s; resolves with the exit code (null if killed). */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

const LISTENING = /^listening on (.+):(\d+)$/m;
const FINGERPRINT = /^fingerprint (SHA256:\S+)/m;

/**
 * Starts the built `ferryd` on a free port of 127.0.0.1 and resolves once it printed
 * `listening on HOST:PORT` (and, speaking TLS, its `fingerprint` line). Rejects (with the server's stderr) if it exits first or does not start
 * in time. Inside a vitest test the process is killed when the test ends, whatever the outcome.
 */
export async function spawnFerryd(opts: SpawnFerrydOptions): Promise<RunningFerryd> {
  const extra = opts.args ?? [];
  const plain = extra.includes("--no-tls");
  const ownCert = extra.includes("--tls-cert") || extra.includes("--state-dir");
  const stateDir = plain || ownCert ? undefined : (opts.stateDir ?? (await scratchDir("ferryd-state-")));
  const root = opts.root === undefined ? [] : ["--root", opts.root];
  const args = [FERRYD_BIN, ...root, "--port", String(opts.port ?? 0), "--host", "127.0.0.1"];
  if (stateDir !== undefined) args.push("--state-dir", stateDir);
  args.push(...extra);
  const proc = spawn(process.execPath, args, {
    env: { ...process.env, ...opts.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  track(proc);
  await killWhenTestEnds(proc);
  let out = "";
  let err = "";
  proc.stdout.setEncoding("utf8");
  proc.stderr.setEncoding("utf8");
  proc.stderr.on("data", (chunk: string) => {
    err += chunk;
  });

  const started = await new Promise<{ host: string; port: number; fingerprint: string | null }>(
    (resolve, reject) => {
      const timeoutMs = opts.startTimeoutMs ?? 20_000;
      const timer = setTimeout(() => {
        cleanup();
        proc.kill("SIGKILL");
        reject(new Error(`ferryd did not print "listening on" within ${timeoutMs} ms; stderr:\n${err}`));
      }, timeoutMs);
      const onData = (chunk: string): void => {
        out += chunk;
        const m = LISTENING.exec(out);
        const fp = FINGERPRINT.exec(out);
        if (m && (plain || fp)) {
          cleanup();
          resolve({ host: m[1]!, port: Number(m[2]), fingerprint: fp?.[1] ?? null });
        }
      };
      const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
        cleanup();
        // stderr may still be in flight when exit fires; give it a moment to arrive.
        setImmediate(() =>
          reject(
            new Error(`ferryd exited (code ${code}, signal ${signal}) before listening; stderr:\n${err}`),
          ),
        );
      };
      const cleanup = (): void => {
        clearTimeout(timer);
        proc.stdout.off("data", onData);
        proc.off("exit", onExit);
      };
      proc.stdout.on("data", onData);
      proc.once("exit", onExit);
    },
  );
  proc.stdout.on("data", (chunk: string) => {
    out += chunk;
  });

  return {
    ...started,
    stateDir,
    proc,
    stderr: () => err,
    stdout: () => out,
    stop: (signal = "SIGTERM") => stopProcess(proc, signal),
  };
}

/** The `ferry` arguments that trust this server and no other: its pin, or `--no-tls` for plain TCP. */
export function trustArgs(server: { fingerprint: string | null }): string[] {
  return server.fingerprint === null ? ["--no-tls"] : ["--fingerprint", server.fingerprint];
}
