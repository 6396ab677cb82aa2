import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cpuSeconds, kbToMb, statusKb } from "./memory.js";
import { FERRYD_BIN } from "./paths.js";

export interface Ferryd {
  host: string;
  port: number;
  /** `SHA256:...` of its certificate; null over plain TCP. */
  fingerprint: string | null;
  pid: number;
  /** Peak resident set so far, MB (10^6 B), from /proc/PID/status VmHWM. */
  peakMb(): number | null;
  /** Current resident set, MB. */
  rssMb(): number | null;
  /** CPU seconds used so far, all threads. */
  cpuSeconds(which?: "all" | "system"): number | null;
  stderr(): string;
  stop(): Promise<void>;
}

export interface FerrydOptions {
  root: string;
  args?: string[];
  /** Node flags for the server process, e.g. --cpu-prof. */
  nodeArgs?: string[];
  /** Shared secret (passed as FERRY_SECRET, so it shows in no process listing). */
  secret?: string;
  /**
   * TLS with a certificate made in a temporary state directory. Default false (`--no-tls`): the
   * sections before TLS existed keep measuring the same thing; the tls section compares both.
   */
  tls?: boolean;
}

/** How a client of this server connects: its pinned fingerprint, or plain TCP. */
export function tlsOf(server: { fingerprint: string | null }): { fingerprint: string } | false {
  return server.fingerprint === null ? false : { fingerprint: server.fingerprint };
}

/** The environment without FERRY_* settings a developer's shell may carry, so every run is configured alike. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("FERRY_")) env[k] = v;
  return { ...env, ...extra };
}

const START_TIMEOUT_MS = 15_000;

/**
 * Starts the real `ferryd` as a child process on 127.0.0.1 and a free port. The child is node itself
 * (not a shell or pnpm wrapper), so its PID is the server's and its /proc status is the server's memory.
 */
export async function startFerryd(options: FerrydOptions): Promise<Ferryd> {
  const stateDir = options.tls ? await mkdtemp(join(tmpdir(), "ferry-bench-state-")) : null;
  const transport = stateDir === null ? ["--no-tls"] : ["--state-dir", stateDir];
  const child = spawn(
    process.execPath,
    [
      ...(options.nodeArgs ?? []),
      FERRYD_BIN,
      "--root",
      options.root,
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      ...transport,
      ...(options.args ?? []),
    ],
    {
      stdio: ["ignore", "pipe", "pipe"],
      env: cleanEnv(options.secret ? { FERRY_SECRET: options.secret } : {}),
    },
  );
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (s: string) => {
    stderr = (stderr + s).slice(-20_000);
  });
  const { host, port, fingerprint } = await waitForListening(child, () => stderr, stateDir !== null);
  const pid = child.pid as number;
  return {
    host,
    port,
    fingerprint,
    pid,
    peakMb: () => kbToMb(statusKb(pid, "VmHWM")),
    rssMb: () => kbToMb(statusKb(pid, "VmRSS")),
    cpuSeconds: (which) => cpuSeconds(pid, which),
    stderr: () => stderr,
    stop: async () => {
      await stopChild(child);
      if (stateDir !== null) await rm(stateDir, { recursive: true, force: true });
    },
  };
}

function waitForListening(
  child: ChildProcess,
  stderr: () => string,
  tls: boolean,
): Promise<{ host: string; port: number; fingerprint: string | null }> {
  return new Promise((resolve, reject) => {
    let out = "";
    const fail = (why: string) => {
      clearTimeout(timer);
      child.kill("SIGKILL");
      reject(new Error(`ferryd did not start: ${why}\n${stderr().trim()}`));
    };
    const timer = setTimeout(
      () => fail(`no "listening on" line within ${START_TIMEOUT_MS} ms`),
      START_TIMEOUT_MS,
    );
    child.stdout?.setEncoding("utf8").on("data", (s: string) => {
      out += s;
      const match = /listening on (\S+):(\d+)\n/.exec(out);
      const fingerprint = /^fingerprint (SHA256:\S+)/m.exec(out)?.[1] ?? null;
      if (match && (!tls || fingerprint !== null)) {
        clearTimeout(timer);
        resolve({ host: match[1] as string, port: Number(match[2]), fingerprint });
      }
    });
    child.once("error", (err) => fail(err.message));
    child.once("exit", (code, signal) =>
      fail(`exited early (code ${code}, signal ${signal}); stdout: ${out.trim()}`),
    );
  });
}

/** SIGTERM (graceful close, which also lets --cpu-prof write its profile), SIGKILL after 15 s. */
export function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}
