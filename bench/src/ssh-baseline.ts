import { execFile, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { connect, createServer } from "node:net";
import { userInfo } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

const SSHD = "/usr/sbin/sshd";
const PRIVSEP_DIR = "/run/sshd";
/** The cipher ferry's TLS row is compared with: AES-GCM, as TLS 1.3 uses. */
export const SCP_CIPHER = "aes128-gcm@openssh.com";
const START_TRIES = 200;

/** Why the scp row cannot run here, or null when it can. */
export function sshUnavailable(): string | null {
  if (!existsSync(SSHD)) return "openssh-server is not installed (apt-get install -y openssh-server)";
  for (const tool of ["/usr/bin/scp", "/usr/bin/ssh-keygen"]) {
    if (!existsSync(tool)) return `${tool} is missing (apt-get install -y openssh-client)`;
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
  /** Runs scp with this sshd's keys and cipher: wall time and CPU time. */
  scp(from: string, to: string): Promise<ScpRun>;
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
  const sshd = spawn(SSHD, ["-D", "-e", "-f", config], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  sshd.stderr.setEncoding("utf8").on("data", (s: string) => {
    stderr = (stderr + s).slice(-4000);
  });
  await waitForPort(
    port,
    () => sshd.exitCode !== null,
    () => stderr,
  );
  const ticks = Number((await run("getconf", ["CLK_TCK"])).stdout.trim()) || 100;
  const user = userInfo().username;
  const options = [
    "-q",
    "-F",
    "/dev/null",
    "-c",
    SCP_CIPHER,
    "-i",
    clientKey,
    "-P",
    String(port),
    "-o",
    "BatchMode=yes",
    "-o",
    "StrictHostKeyChecking=no",
    "-o",
    `UserKnownHostsFile=${join(dir, "known_hosts")}`,
    "-o",
    "GlobalKnownHostsFile=/dev/null",
  ];
  return {
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
    async stop() {
      if (sshd.exitCode !== null) return;
      const exited = new Promise((resolve) => sshd.once("exit", resolve));
      sshd.kill("SIGTERM");
      await exited;
    },
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

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

async function waitForPort(port: number, exited: () => boolean, stderr: () => string): Promise<void> {
  for (let i = 0; i < START_TRIES; i++) {
    if (exited()) throw new Error(`sshd exited: ${stderr().trim()}`);
    const open = await new Promise<boolean>((resolve) => {
      const s = connect(port, "127.0.0.1");
      s.once("connect", () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`sshd did not listen on 127.0.0.1:${port}: ${stderr().trim()}`);
}
