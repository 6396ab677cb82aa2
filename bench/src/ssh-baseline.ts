import { execFile, spawn } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
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

export interface PrivateSshd {
  /** Runs scp with this sshd's keys and cipher; resolves with its wall time in seconds. */
  scp(from: string, to: string): Promise<number>;
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
      const start = process.hrtime.bigint();
      await run("scp", [...options, from, to], { maxBuffer: 1024 * 1024 });
      return Number(process.hrtime.bigint() - start) / 1e9;
    },
    async stop() {
      if (sshd.exitCode !== null) return;
      const exited = new Promise((resolve) => sshd.once("exit", resolve));
      sshd.kill("SIGTERM");
      await exited;
    },
  };
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
