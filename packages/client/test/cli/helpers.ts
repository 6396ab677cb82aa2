import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { type FerryResult, runFerry, spawnFerryd, tempDirForTest } from "@ferry/test-fixtures";

export interface World {
  /** The folder ferryd serves. */
  root: string;
  /** The CLI's working directory. */
  local: string;
  port: number;
  /**
   * Arguments that make a test's `ferry` trust exactly this server: none over plain TCP. (With TLS
   * by default this is the server's pin; the tests that spawn ferry themselves pass it.)
   */
  trust: string[];
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
    trust: trustFor(server),
    ferry: (args, opts = {}) =>
      runFerry([...args], { cwd: opts.cwd ?? local, input: opts.input, env: opts.env, timeoutMs: 60_000 }),
  };
}

/** `--fingerprint FP` for a server that prints one (TLS), nothing for plain TCP. */
export function trustFor(server: object): string[] {
  const pin = (server as { fingerprint?: string | null }).fingerprint;
  return typeof pin === "string" ? ["--fingerprint", pin] : [];
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
