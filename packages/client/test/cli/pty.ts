import { spawn } from "node:child_process";
import path from "node:path";
import readline from "node:readline";
import { fileURLToPath } from "node:url";
import { FERRY_BIN, testKnownHostsFile } from "@ferry/test-fixtures";
import { onTestFinished } from "vitest";

const DRIVER = path.join(path.dirname(fileURLToPath(import.meta.url)), "pty-driver.py");

export interface Pty {
  send(data: string): Promise<void>;
  /** Waits for `re` in the output (escape sequences removed) after the previous match. */
  expect(re: RegExp | string, timeoutS?: number): Promise<string>;
  /** Waits for the process to exit; its exit code. */
  exit(timeoutS?: number): Promise<number | null>;
  transcript(): Promise<string>;
  /** What the terminal shows, scrollback included: rows the terminal wrapped are joined into one line. */
  screen(): Promise<{ rows: string[]; lines: string[] }>;
}

/**
 * The real `ferry` in a real pseudo-terminal (python3's pty module: node-pty's native build is not
 * reliable here). Killed when the test ends.
 */
export function ferryInPty(
  args: string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv; columns?: number; rows?: number },
): Pty {
  const env: NodeJS.ProcessEnv = { ...process.env, TERM: "xterm-256color" };
  // A secret in the developer's shell must not answer the prompt we want to see, nor a pin the
  // question about a new host; and the user's known_hosts is never read.
  delete env.FERRY_SECRET;
  delete env.FERRY_FINGERPRINT;
  env.FERRY_KNOWN_HOSTS = testKnownHostsFile();
  Object.assign(env, opts.env);
  env.FERRY_PTY_COLUMNS = String(opts.columns ?? 140);
  env.FERRY_PTY_ROWS = String(opts.rows ?? 40);
  const proc = spawn("python3", [DRIVER, process.execPath, FERRY_BIN, ...args], {
    cwd: opts.cwd,
    env,
    stdio: ["pipe", "pipe", "inherit"],
  });
  onTestFinished(() => {
    proc.stdin.end();
    if (proc.exitCode === null) proc.kill("SIGKILL");
  });
  const replies = readline.createInterface({ input: proc.stdout });
  const waiting: ((line: string | null) => void)[] = [];
  replies.on("line", (line) => waiting.shift()?.(line));
  // If the driver dies, every pending call fails instead of hanging the test.
  proc.on("close", () => {
    for (const w of waiting.splice(0)) w(null);
  });
  const call = (req: Record<string, unknown>): Promise<Record<string, unknown>> => {
    return new Promise((resolve, reject) => {
      waiting.push((line) =>
        line === null
          ? reject(new Error(`pty driver exited (${proc.exitCode})`))
          : resolve(JSON.parse(line) as Record<string, unknown>),
      );
      proc.stdin.write(`${JSON.stringify(req)}\n`, (err) => err && reject(err));
    });
  };
  return {
    async send(data) {
      await call({ op: "send", data });
    },
    async expect(re, timeoutS = 10) {
      const source = typeof re === "string" ? re.replace(/[.*+?^${}()|[\]\\]/g, "\\$&") : re.source;
      const r = await call({ op: "expect", re: source, timeout: timeoutS });
      if (!r.ok) throw new Error(`${String(r.error)}\n--- screen ---\n${String(r.screen)}`);
      return String(r.match);
    },
    async exit(timeoutS = 20) {
      const r = await call({ op: "wait", timeout: timeoutS });
      return (r.code as number | null) ?? null;
    },
    async transcript() {
      return String((await call({ op: "transcript" })).text);
    },
    async screen() {
      const r = await call({ op: "screen" });
      return { rows: r.rows as string[], lines: r.lines as string[] };
    },
  };
}
