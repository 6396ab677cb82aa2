import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { type FerryResult, runFerry, spawnFerryd, tempDirForTest } from "@ferry/test-fixtures";

export interface World {
  /** The folder ferryd serves. */
  root: string;
  /** The CLI's working directory. */
  local: string;
  port: number;
  /** Runs the real `ferry` binary against the server, in `local`. */
  ferry(
    args: string[],
    opts?: { input?: string; env?: NodeJS.ProcessEnv; cwd?: string },
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
  return {
    root,
    local,
    port: server.port,
    ferry: (args, opts = {}) =>
      runFerry([...args], { cwd: opts.cwd ?? local, input: opts.input, env: opts.env, timeoutMs: 60_000 }),
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
