import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { userInfo } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { stopChild } from "../ferryd.js";
import { freePort, runProcess, spawnDaemon, waitForPort } from "./process.js";

const run = promisify(execFile);

const SSHD = "/usr/sbin/sshd";
const PRIVSEP_DIR = "/run/sshd";
/** The cipher ferry's TLS row is compared with: AES-GCM, as TLS 1.3 uses. */
export const SCP_CIPHER = "aes128-gcm@openssh.com";
/** How to get OpenSSH where it is missing; the bench prints it in the rows that could not run. */
export const SSH_INSTALL = "apt-get install -y openssh-server openssh-client";

/** Why a private sshd (with scp and sftp) cannot run here, or null when it can. */
export function sshUnavailable(): string | null {
  if (!existsSync(SSHD)) return `openssh-server is not installed (${SSH_INSTALL})`;
  for (const tool of ["/usr/bin/scp", "/usr/bin/sftp", "/usr/bin/ssh-keygen"]) {
    if (!existsSync(tool)) return `${tool} is missing (${SSH_INSTALL})`;
  }
  // sshd refuses to start without its (empty) privilege-separation folder, which the system's init
  // scripts make at boot; a container may not have it. Root may make it, as those scripts do.
  if (!existsSync(PRIVSEP_DIR)) {
    if (process.getuid?.() !== 0)
      return `${PRIVSEP_DIR} does not exist (sshd needs it: mkdir -m 755 ${PRIVSEP_DIR})`;
    mkdirSync(PRIVSEP_DIR, { mode: 0o755 });
  }
  return null;
}

export interface ScpRun {
  seconds: number;
  /** CPU seconds of scp and its ssh (as the shell counts its children) plus the sshd session's. */
  cpuSeconds: number | null;
}

export interface PrivateSshd {
  port: number;
  /** Runs scp with this sshd's keys and cipher: wall time and CPU time. */
  scp(from: string, to: string): Promise<ScpRun>;
  /**
   * Runs `sftp -b` with these commands (one per line; a failing one fails the run), connecting to
   * `port` (a delay proxy in front of this sshd, say), by default this sshd's own.
   */
  sftp(commands: readonly string[], port?: number): Promise<void>;
  /** `user@127.0.0.1:path`, for scp arguments. */
  remote(path: string): string;
  stop(): Promise<void>;
}

/**
 * An sshd of our own on 127.0.0.1 with its own config, host key and client key, all in `dir`: the
 * system's sshd, its config and the user's ~/.ssh are never read or changed.
 */
export async function startPrivateSshd(dir: string): Promise<PrivateSshd> {
  const hostKey = join(dir, "host_ed25519");
  const clientKey = join(dir, "client_ed25519");
  await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", hostKey]);
  await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", clientKey]);
  await run("cp", [`${clientKey}.pub`, join(dir, "authorized_keys")]);
  const port = await freePort();
  const config = join(dir, "sshd_config");
  await writeFile(
    config,
    [
      `Port ${port}`,
      "ListenAddress 127.0.0.1",
      `HostKey ${hostKey}`,
      `PidFile ${join(dir, "sshd.pid")}`,
      `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
      "PubkeyAuthentication yes",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "PermitRootLogin prohibit-password",
      "StrictModes no",
      "UsePAM no",
      `Ciphers ${SCP_CIPHER}`,
      "Subsystem sftp internal-sftp",
      "LogLevel ERROR",
      "",
    ].join("\n"),
  );
  const { child: sshd, stderr } = spawnDaemon(SSHD, ["-D", "-e", "-f", config]);
  try {
    await waitForPort(port, sshd, stderr);
  } catch (err) {
    await stopChild(sshd);
    throw err;
  }
  const ticks = Number((await run("getconf", ["CLK_TCK"])).stdout.trim()) || 100;
  const user = userInfo().username;
  // scp and sftp take the same options; -P is the port for both (ssh's own -p is not).
  const common = [
    "-q",
    "-F",
    "/dev/null",
    "-c",
    SCP_CIPHER,
    "-i",
    clientKey,
    "-o",
    "BatchMode=yes",
    "-o",
    "StrictHostKeyChecking=no",
    "-o",
    `UserKnownHostsFile=${join(dir, "known_hosts")}`,
    "-o",
    "GlobalKnownHostsFile=/dev/null",
    "-o",
    "IdentitiesOnly=yes",
  ];
  const options = [...common, "-P", String(port)];
  let batches = 0;
  return {
    port,
    remote: (path) => `${user}@127.0.0.1:${path}`,
    async scp(from, to) {
      const sshdBefore = childCpuSeconds(sshd.pid, ticks);
      const start = process.hrtime.bigint();
      // `times` after scp prints the CPU time of the shell's finished children: scp and its ssh.
      const { stdout } = await run("bash", ["-c", 'scp "$@" && times', "scp", ...options, from, to], {
        maxBuffer: 1024 * 1024,
      });
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      const sshdAfter = childCpuSeconds(sshd.pid, ticks);
      const children = parseTimes(stdout);
      const cpuSeconds =
        children === null || sshdBefore === null || sshdAfter === null
          ? null
          : children + sshdAfter - sshdBefore;
      return { seconds, cpuSeconds };
    },
    async sftp(commands, via = port) {
      const batch = join(dir, `sftp-batch-${++batches}`);
      await writeFile(batch, `${commands.join("\n")}\n`);
      await runProcess("sftp", [...common, "-P", String(via), "-b", batch, `${user}@127.0.0.1`]);
    },
    stop: () => stopChild(sshd),
  };
}

/**
 * CPU seconds of a process's children that have exited and been waited for (cutime + cstime of
 * /proc/PID/stat): for our sshd, the session processes that served finished transfers.
 */
function childCpuSeconds(pid: number | undefined, ticks: number): number | null {
  if (pid === undefined) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces) start at ")"; cutime and cstime are 16 and 17.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[13]) + Number(fields[14])) / ticks;
  } catch {
    return null;
  }
}

/** The children's line of bash's `times` ("0m1.234s 0m0.567s"): user + system seconds. */
function parseTimes(out: string): number | null {
  const line = out.trim().split("\n").at(-1) ?? "";
  const parts = [...line.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
  return parts.length === 2 ? (parts[0] as number) + (parts[1] as number) : null;
}
