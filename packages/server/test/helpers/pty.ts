import { spawn } from "node:child_process";
import readline from "node:readline";
import { fileURLToPath } from "node:url";
import { onTestFinished } from "vitest";

/** The client package's pseudo-terminal driver (python3's pty module), shared rather than copied. */
const DRIVER = fileURLToPath(new URL("../../../client/test/cli/pty-driver.py", import.meta.url));

export interface Pty {
  send(data: string): Promise<void>;
  /** Waits for `re` in the output (escape sequences removed) after the previous match. */
  expect(re: RegExp, timeoutS?: number): Promise<string>;
  exit(timeoutS?: number): Promise<number | null>;
  /** Everything the program wrote to the terminal. */
  transcript(): Promise<string>;
}

/** Runs `node <script> ...args` in a real pseudo-terminal; killed when the test ends. */
export function inPty(script: string, args: string[], env: NodeJS.ProcessEnv = {}): Pty {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("FERRY_")));
  const proc = spawn("python3", [DRIVER, process.execPath, script, ...args], {
    env: { ...clean, TERM: "xterm-256color", ...env },
    stdio: ["pipe", "pipe", "inherit"],
  });
  onTestFinished(() => {
    proc.stdin.end();
    if (proc.exitCode === null) proc.kill("SIGKILL");
  });
  const replies = readline.createInterface({ input: proc.stdout });
  const waiting: ((line: string | null) => void)[] = [];
  replies.on("line", (line) => waiting.shift()?.(line));
  proc.on("close", () => {
    for (const w of waiting.splice(0)) w(null);
  });
  const call = (req: Record<string, unknown>) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      waiting.push((line) =>
        line === null
          ? reject(new Error("pty driver exited"))
          : resolve(JSON.parse(line) as Record<string, unknown>),
      );
      proc.stdin.write(`${JSON.stringify(req)}\n`, (err) => err && reject(err));
    });
  return {
    async send(data) {
      await call({ op: "send", data });
    },
    async expect(re, timeoutS = 10) {
      const r = await call({ op: "expect", re: re.source, timeout: timeoutS });
      if (!r.ok) throw new Error(`${String(r.error)}\n--- screen ---\n${String(r.screen)}`);
      return String(r.match);
    },
    async exit(timeoutS = 20) {
      return ((await call({ op: "wait", timeout: timeoutS })).code as number | null) ?? null;
    },
    async transcript() {
      return String((await call({ op: "transcript" })).text);
    },
  };
}
