/**
 * One client-side transfer in its own process, so its peak memory (VmHWM) is the client's alone.
 * argv[2] is a JSON ClientJob; prints one JSON ClientOutcome line on stdout.
 */
import { loadConnect } from "./ferry-client.js";
import { statusKb } from "./memory.js";

export interface ClientJob {
  op: "put" | "get";
  host: string;
  port: number;
  secret?: string;
  /** The server's pinned fingerprint, or false (the default) for plain TCP. */
  tls?: { fingerprint: string } | false;
  local: string;
  remote: string;
}

export interface ClientOutcome {
  ok: boolean;
  /** connect + transfer + close, measured inside the process (node start-up is not counted). */
  seconds: number;
  size?: number;
  md5?: string;
  peakKb: number | null;
  /** CPU seconds of the transfer (user + system, all threads, so a hashing worker counts). */
  cpuSeconds?: number;
  /** The kernel's share of cpuSeconds (socket and file copies, page faults). */
  systemSeconds?: number;
  code?: string;
  error?: string;
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? "{}") as ClientJob;
  const connect = await loadConnect();
  const start = process.hrtime.bigint();
  const cpuBefore = process.cpuUsage();
  let outcome: ClientOutcome;
  try {
    const session = await connect({
      host: job.host,
      port: job.port,
      secret: job.secret,
      tls: job.tls ?? false,
      clientName: "ferry-bench",
    });
    const result =
      job.op === "put"
        ? await session.put(job.local, job.remote, { overwrite: true })
        : await session.get(job.remote, job.local, { overwrite: true });
    await session.close();
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const cpu = process.cpuUsage(cpuBefore);
    outcome = {
      ok: true,
      seconds,
      size: result.size,
      md5: result.md5,
      peakKb: statusKb("self", "VmHWM"),
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      systemSeconds: cpu.system / 1e6,
    };
  } catch (err) {
    const e = err as { code?: string; message?: string };
    outcome = { ok: false, seconds: 0, peakKb: statusKb("self", "VmHWM"), code: e.code, error: e.message };
  }
  process.stdout.write(`${JSON.stringify(outcome)}\n`);
}

await main();
