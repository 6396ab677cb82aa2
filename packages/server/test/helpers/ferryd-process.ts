import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { onTestFinished } from "vitest";

const BIN = fileURLToPath(new URL("../../bin/ferryd.js", import.meta.url));

/** A real ferryd process and what it printed so far. */
export interface FerrydRun {
  proc: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<number | null>;
}

/**
 * Starts the real ferryd binary with `args`, with no FERRY_* from this shell (a developer's own
 * settings must not change a test) and `env` on top. With `input`, stdin is a pipe given that text
 * and closed; otherwise stdin is closed. Killed when the test ends, if still running.
 */
export function spawnFerryd(
  args: readonly string[],
  opts: { env?: NodeJS.ProcessEnv; input?: string } = {},
): FerrydRun {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("FERRY_")));
  const piped = opts.input !== undefined;
  const proc = spawn(process.execPath, [BIN, ...args], {
    env: { ...clean, ...opts.env },
    stdio: [piped ? "pipe" : "ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  proc.stdout?.on("data", (d) => {
    out += d;
  });
  proc.stderr?.on("data", (d) => {
    err += d;
  });
  if (piped) {
    proc.stdin?.on("error", () => {});
    proc.stdin?.end(opts.input);
  }
  const exit = new Promise<number | null>((resolve) => proc.on("close", (code) => resolve(code)));
  onTestFinished(() => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
  });
  return { proc, stdout: () => out, stderr: () => err, exit };
}
