import type { ChildProcess } from "node:child_process";

// Every child process spawned by the helpers, so that none outlives the test run even when a test
// fails before it could stop its own processes.
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Remembers a child until it exits; kills it with SIGKILL if this process exits first. */
export function track(proc: ChildProcess): void {
  live.add(proc);
  proc.once("exit", () => live.delete(proc));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once("exit", () => {
      for (const p of live) p.kill("SIGKILL");
    });
  }
}

/** True until the process has exited (its exit code or signal is known). */
export function isRunning(proc: ChildProcess): boolean {
  return proc.exitCode === null && proc.signalCode === null;
}

/** Resolves with the exit code (null when killed by a signal) once the process has exited. */
export function waitForExit(proc: ChildProcess): Promise<number | null> {
  if (!isRunning(proc)) return Promise.resolve(proc.exitCode);
  return new Promise((resolve) => proc.once("exit", (code) => resolve(code)));
}

/** Sends `signal`, then SIGKILL after `graceMs` if the process is still alive; resolves on exit. */
export async function stopProcess(
  proc: ChildProcess,
  signal: NodeJS.Signals = "SIGTERM",
  graceMs = 10_000,
): Promise<number | null> {
  if (!isRunning(proc)) return proc.exitCode;
  const exited = waitForExit(proc);
  proc.kill(signal);
  const timer = setTimeout(() => proc.kill("SIGKILL"), graceMs);
  try {
    return await exited;
  } finally {
    clearTimeout(timer);
  }
}

/** Kills (SIGKILL) every tracked process that is still running and waits for them. For afterAll/afterEach. */
export async function killAllProcesses(): Promise<void> {
  await Promise.all([...live].map((p) => stopProcess(p, "SIGKILL")));
}

/** Registers the process for killing when the current vitest test ends, if called inside a test. */
export async function killWhenTestEnds(proc: ChildProcess): Promise<void> {
  if (!process.env.VITEST) return;
  const { onTestFinished } = await import("vitest");
  try {
    onTestFinished(async () => {
      await stopProcess(proc, "SIGKILL");
    });
  } catch {
    // Outside a test (beforeAll): the caller stops it, and the exit hook is the last resort.
  }
}
