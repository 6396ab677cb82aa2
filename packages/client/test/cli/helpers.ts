import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import {
  type FerryResult,
  type RunningFerryd,
  runFerry,
  spawnFerryd,
  tempDirForTest,
  trustArgs,
} from "@ferry/test-fixtures";

export interface World {
  /** The folder ferryd serves. */
  root: string;
  /** The CLI's working directory. */
  local: string;
  port: number;
  /** The ferryd process (its log is `server.stderr()`). */
  server: RunningFerryd;
  /** `SHA256:...` of the server's certificate (null for a --no-tls server). */
  fingerprint: string | null;
  /** `--fingerprint FP` (or `--no-tls`): how a test's ferry trusts exactly this server. */
  trust: string[];
  /**
   * Runs the real `ferry` binary against the server, in `local`, trusting its certificate (the pin
   * goes first; `trust: false` leaves it out, for tests of trust itself).
   */
  ferry(
    args: string[],
    opts?: { input?: string; env?: NodeJS.ProcessEnv; cwd?: string; trust?: boolean },
  ): Promise<FerryResult>;
}

/** A real ferryd on a free port and two temp folders; all removed when the test ends. */
export async function world(serverArgs: string[] = []): Promise<World> {
  const dir = await tempDirForTest("ferry-cli-");
  const root = path.join(dir, "root");
  const local = path.join(dir, "local");
  await mkdir(root);
  await mkdir(local);
  const server = await spawnFerryd({ root, args: ["--no-fsync", ...serverArgs] });
  const trust = trustArgs(server);
  return {
    root,
    local,
    port: server.port,
    server,
    fingerprint: server.fingerprint,
    trust,
    ferry: (args, opts = {}) =>
      runFerry([...(opts.trust === false ? [] : trust), ...args], {
        cwd: opts.cwd ?? local,
        input: opts.input,
        env: opts.env,
        timeoutMs: 60_000,
      }),
  };
}

export async function writeFiles(dir: string, files: Record<string, string | Buffer>): Promise<void> {
  for (const [name, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), content);
  }
}

/** No stack trace, no multi-line error: every stderr line is a `ferry: ...` line or a notice. */
export function expectOneLineErrors(stderr: string): void {
  if (/\n\s+at /.test(stderr)) throw new Error(`stack trace in stderr:\n${stderr}`);
}
