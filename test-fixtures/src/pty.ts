import { spawn } from "node:child_process";
import { join } from "node:path";
import readline from "node:readline";
import { FIXTURES_PACKAGE_DIR } from "./paths.js";

/** python3's pty module drives the terminal: node-pty's native build is not reliable here. */
const DRIVER = join(FIXTURES_PACKAGE_DIR, "pty-driver.py");

export interface Pty {
  send(data: string): Promise<void>;
  /** Waits for `re` in the output (escape sequences removed) after the previous match. */
  expect(re: RegExp | string, timeoutS?: number): Promise<string>;
  /** Waits for the process to exit; its exit code. */
  exit(timeoutS?: number): Promise<number | null>;
  /** Everything the program wrote to the terminal. */
  transcript(): Promise<string>;
  /** What the terminal shows, scrollback included: rows the terminal wrapped are joined into one line. */
  screen(): Promise<{ rows: string[]; lines: string[] }>;
}

export interface PtyOptions {
  cwd?: string;
  /** The whole environment of the program (TERM and the terminal's size are added). */
  env: NodeJS.ProcessEnv;
  columns?: number;
  rows?: number;
}

/**
 * Runs `node <script> ...args` in a real pseudo-terminal, for the prompts, bars and line editing a
 * pipe never shows. Inside a vitest test it is killed when the test ends.
 */
export function inPty(script: string, args: string[], opts: PtyOptions): Pty {
  const env: NodeJS.ProcessEnv = {
    ...opts.env,
    TERM: "xterm-256color",
    FERRY_PTY_COLUMNS: String(opts.columns ?? 140),
    FERRY_PTY_ROWS: String(opts.rows ?? 40),
  };
  const proc = spawn("python3", [DRIVER, process.execPath, script, ...args], {
    ...(opts.cwd === undefined ? {} : { cwd: opts.cwd }),
    env,
    stdio: ["pipe", "pipe", "inherit"],
  });
  void whenTestEnds(() => {
    // Closing the driver's stdin kills its child; SIGKILL is for a driver that hangs.
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
  const call = (req: Record<string, unknown>): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      waiting.push((line) =>
        line === null
          ? reject(new Error(`pty driver exited (${proc.exitCode})`))
          : resolve(JSON.parse(line) as Record<string, unknown>),
      );
      proc.stdin.write(`${JSON.stringify(req)}\n`, (err) => err && reject(err));
    });
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

async function whenTestEnds(stop: () => void): Promise<void> {
  if (!process.env.VITEST) return;
  const { onTestFinished } = await import("vitest");
  onTestFinished(stop);
}
