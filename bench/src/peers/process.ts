import { type ChildProcess, spawn } from "node:child_process";
import { type AddressInfo, createServer, connect as tcpConnect } from "node:net";
import { cleanEnv } from "../ferryd.js";

const WAIT_TRIES = 400;
const WAIT_STEP_MS = 25;
const STDERR_KEPT = 4000;

/** A port on 127.0.0.1 that was free a moment ago (for daemons that cannot be told "port 0"). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Resolves once something accepts connections on 127.0.0.1:port; rejects if `child` exits first or
 * nothing listens within WAIT_TRIES × WAIT_STEP_MS (about 10 s).
 */
export async function waitForPort(port: number, child: ChildProcess, stderr = () => ""): Promise<void> {
  for (let i = 0; i < WAIT_TRIES; i++) {
    if (child.exitCode !== null)
      throw new Error(`the server exited with code ${child.exitCode}: ${stderr().trim()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = tcpConnect({ host: "127.0.0.1", port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.on("error", () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, WAIT_STEP_MS));
  }
  throw new Error(`nothing listens on 127.0.0.1:${port}: ${stderr().trim()}`);
}

export interface RunOptions {
  cwd?: string;
  env?: Record<string, string>;
}

/** Runs a command to its end; resolves with its stdout, rejects with the tail of its stderr. */
export function runProcess(
  command: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: ["ignore", "pipe", "pipe"],
      env: cleanEnv(options.env),
      cwd: options.cwd,
    });
    let out = "";
    let err = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => {
      out += s;
    });
    child.stderr.setEncoding("utf8").on("data", (s: string) => {
      err = (err + s).slice(-STDERR_KEPT);
    });
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0
        ? resolve(out)
        : reject(
            new Error(`${command} ${args.join(" ").slice(0, 200)} exited with code ${code}: ${err.trim()}`),
          ),
    );
  });
}

/** A long-running daemon as a child process, with the tail of its stderr kept for error messages. */
export function spawnDaemon(
  command: string,
  args: readonly string[],
): { child: ChildProcess; stderr: () => string } {
  const child = spawn(command, args, { stdio: ["ignore", "ignore", "pipe"], env: cleanEnv() });
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (s: string) => {
    stderr = (stderr + s).slice(-STDERR_KEPT);
  });
  return { child, stderr: () => stderr };
}
