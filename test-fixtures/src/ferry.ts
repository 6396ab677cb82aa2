import { type ChildProcess, spawn } from "node:child_process";
import { FERRY_BIN } from "./paths.js";
import { killWhenTestEnds, stopProcess, track } from "./process-registry.js";
import { testKnownHostsFile } from "./temp-dir.js";

export interface RunFerryOptions {
  /** Written to the CLI's stdin, which is then closed. Without it stdin is closed at once. */
  input?: string;
  cwd?: string;
  /**
   * Merged over this process's environment, minus any inherited FERRY_SECRET or FERRY_FINGERPRINT.
   * FERRY_KNOWN_HOSTS defaults to a file private to the test process, never ~/.ferry/known_hosts.
   */
  env?: NodeJS.ProcessEnv;
  /** Kill the CLI (SIGKILL) after this long; default 120 s. */
  timeoutMs?: number;
}

export interface FerryResult {
  /** Exit code; null when the process was killed by a signal (see `signal`). */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** True when the process was killed because it ran past `timeoutMs`. */
  timedOut: boolean;
}

export interface SpawnedFerry {
  readonly proc: ChildProcess;
  /** Output so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves when the process has exited and its output is complete. */
  readonly done: Promise<FerryResult>;
  /** Sends a signal (default SIGKILL) and waits for the exit. */
  kill(signal?: NodeJS.Signals): Promise<FerryResult>;
}

/** Starts the built `ferry` CLI with `args` and returns at once; see runFerry for the usual case. */
export function spawnFerry(args: string[], opts: RunFerryOptions = {}): SpawnedFerry {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // A secret or a pin in the developer's shell must not leak into tests that expect none.
  delete env.FERRY_SECRET;
  delete env.FERRY_FINGERPRINT;
  env.FERRY_KNOWN_HOSTS = testKnownHostsFile();
  const proc = spawn(process.execPath, [FERRY_BIN, ...args], {
    cwd: opts.cwd,
    env: { ...env, ...opts.env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  track(proc);
  void killWhenTestEnds(proc);
  let stdout = "";
  let stderr = "";
  let timedOut = false;
  proc.stdout.setEncoding("utf8");
  proc.stderr.setEncoding("utf8");
  proc.stdout.on("data", (c: string) => {
    stdout += c;
  });
  proc.stderr.on("data", (c: string) => {
    stderr += c;
  });
  // The CLI may exit before reading its input (an early error); that is not a test failure.
  proc.stdin.on("error", () => {});
  proc.stdin.end(opts.input ?? "");
  const timer = setTimeout(() => {
    timedOut = true;
    proc.kill("SIGKILL");
  }, opts.timeoutMs ?? 120_000);
  const done = new Promise<FerryResult>((resolve, reject) => {
    proc.once("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    // "close" (not "exit") so that all output has been read.
    proc.once("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
  return {
    proc,
    stdout: () => stdout,
    stderr: () => stderr,
    done,
    kill: async (signal = "SIGKILL") => {
      await stopProcess(proc, signal);
      return done;
    },
  };
}

/**
 * Runs the built `ferry` CLI exactly as a user would (`node packages/client/bin/ferry.js ...args`) and
 * resolves with its exit code and output once it has exited. Never rejects for a non-zero exit.
 */
export function runFerry(args: string[], opts: RunFerryOptions = {}): Promise<FerryResult> {
  return spawnFerry(args, opts).done;
}
