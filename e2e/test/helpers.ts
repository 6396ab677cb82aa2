import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import {
  type FerryResult,
  type RunFerryOptions,
  type RunningFerryd,
  runFerry,
  type SpawnedFerry,
  spawnFerry,
  spawnFerryd,
  tempDirForTest,
  trustArgs,
} from "@ferry/test-fixtures";

export { trustArgs };

/**
 * A ferryd on a fresh temp root (removed, and the server killed, when the test ends). It speaks TLS
 * with a certificate of its own unless `plain` (`--no-tls`); the helpers below pin its fingerprint.
 */
export async function startServer(
  opts: { root?: string; args?: string[]; env?: NodeJS.ProcessEnv; plain?: boolean; stateDir?: string } = {},
): Promise<RunningFerryd & { root: string }> {
  const root = opts.root ?? (await tempDirForTest("ferry-e2e-root-"));
  const args = [...(opts.plain ? ["--no-tls"] : []), ...(opts.args ?? [])];
  const server = await spawnFerryd({ root, args, env: opts.env, stateDir: opts.stateDir });
  return Object.assign(server, { root });
}

/** `host:port` of a running server, as a user types it. */
export function address(server: { host: string; port: number }): string {
  return `${server.host}:${server.port}`;
}

type Target = { host: string; port: number; fingerprint: string | null };

/** The arguments for `ferry --no-progress --fingerprint FP [--json] -c "commands" host:port`. */
export function commandArgs(server: Target, commands: string, extra: string[] = []): string[] {
  return ["--no-progress", ...trustArgs(server), ...extra, "-c", commands, address(server)];
}

/** Runs `ferry -c commands` against the server and returns its result. */
export function ferryC(
  server: Target,
  commands: string,
  opts: RunFerryOptions & { extra?: string[] } = {},
): Promise<FerryResult> {
  return runFerry(commandArgs(server, commands, opts.extra), opts);
}

/** Starts `ferry -c commands` and returns at once (to kill it mid-transfer). */
export function spawnFerryC(
  server: Target,
  commands: string,
  opts: RunFerryOptions & { extra?: string[] } = {},
): SpawnedFerry {
  return spawnFerry(commandArgs(server, commands, opts.extra), opts);
}

/** A readable account of a CLI run, for assertion messages. */
export function describeRun(r: FerryResult): string {
  return `exit ${r.code} signal ${r.signal}${r.timedOut ? " (timed out)" : ""}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}

/** Every JSON object printed one per line on stdout (`--json`); other lines are ignored. */
export function jsonLines(stdout: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const line of stdout.split("\n")) {
    const t = line.trim();
    if (!t.startsWith("{")) continue;
    try {
      const v: unknown = JSON.parse(t);
      if (v && typeof v === "object" && !Array.isArray(v)) out.push(v as Record<string, unknown>);
    } catch {
      // not a JSON line
    }
  }
  return out;
}

/** The transfer results (objects with a numeric `transferred`) that `--json` printed. */
export function transferResults(stdout: string): { transferred: number; size?: number; md5?: string }[] {
  return jsonLines(stdout).filter((o) => typeof o.transferred === "number") as {
    transferred: number;
    size?: number;
    md5?: string;
  }[];
}

/** Total bytes of all regular files below `dir`, hidden ones (staging files) included. */
export async function treeBytes(dir: string): Promise<number> {
  let total = 0;
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    const full = join(dir, e.name);
    if (e.isDirectory()) total += await treeBytes(full);
    else if (e.isFile()) total += (await stat(full).catch(() => ({ size: 0 }))).size;
  }
  return total;
}

/** Size of a file, 0 when it does not exist (yet). */
export async function sizeOf(path: string): Promise<number> {
  return (await stat(path).catch(() => ({ size: 0 }))).size;
}

/**
 * Polls `probe` until it returns true. Not a timing assertion: the limit only stops a hung test.
 * Fails early when `alive` says the process we are waiting on has already exited.
 */
export async function waitUntil(
  what: string,
  probe: () => Promise<boolean>,
  opts: { limitMs?: number; alive?: () => boolean; context?: () => string } = {},
): Promise<void> {
  const limit = Date.now() + (opts.limitMs ?? 120_000);
  for (;;) {
    if (await probe()) return;
    if (opts.alive && !opts.alive()) {
      throw new Error(`gave up waiting for ${what}: the process exited\n${opts.context?.() ?? ""}`);
    }
    if (Date.now() > limit) throw new Error(`gave up waiting for ${what}\n${opts.context?.() ?? ""}`);
    await sleep(5);
  }
}

/** Quotes a path for the ferry command line (shell-like parsing): single quotes, `'` escaped. */
export function q(path: string): string {
  return `'${path.replaceAll("'", `'\\''`)}'`;
}
