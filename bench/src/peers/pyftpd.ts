import { hasCommand } from "../baselines.js";
import { stopChild } from "../ferryd.js";
import { freePort, runProcess, spawnDaemon, waitForPort } from "./process.js";

const PYTHON = "/usr/bin/python3";

/** How to get pyftpdlib (and the lftp client the bench drives it with) where they are missing. */
export const PYFTPD_INSTALL = "apt-get install -y python3-pyftpdlib";

/** Whether python3 with pyftpdlib is here. */
export async function pyftpdAvailable(): Promise<boolean> {
  if (!hasCommand(PYTHON)) return false;
  return runProcess(PYTHON, ["-c", "import pyftpdlib"]).then(
    () => true,
    () => false,
  );
}

export interface Pyftpd {
  port: number;
  stop(): Promise<void>;
}

/** pyftpdlib's own FTP server on 127.0.0.1, anonymous and writable, over `root`; it never fsyncs. */
export async function startPyftpd(root: string): Promise<Pyftpd> {
  const port = await freePort();
  const { child, stderr } = spawnDaemon(PYTHON, [
    "-m",
    "pyftpdlib",
    "-i",
    "127.0.0.1",
    "-p",
    String(port),
    "-w",
    "-d",
    root,
  ]);
  try {
    await waitForPort(port, child, stderr);
  } catch (err) {
    await stopChild(child);
    throw err;
  }
  return { port, stop: () => stopChild(child) };
}
