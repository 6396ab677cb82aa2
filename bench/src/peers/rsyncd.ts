import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { hasCommand } from "../baselines.js";
import { stopChild } from "../ferryd.js";
import { freePort, spawnDaemon, waitForPort } from "./process.js";

/** How to get rsync where it is missing; the bench prints it in the row that could not run. */
export const RSYNC_INSTALL = "apt-get install -y rsync";

/** Why an rsync daemon cannot run here, or null when it can. */
export function rsyncUnavailable(): string | null {
  return hasCommand("rsync") ? null : `rsync is not installed (${RSYNC_INSTALL})`;
}

export interface Rsyncd {
  port: number;
  /** `rsync://127.0.0.1:PORT/bench/PATH` through `port` (a delay proxy's, say), default this daemon's. */
  url(path: string, port?: number): string;
  stop(): Promise<void>;
}

/**
 * An rsync daemon of our own on 127.0.0.1: its config, pid file and log in `dir`, one writable
 * module `bench` over `root`. rsync never fsyncs unless told (--fsync), so it matches ferryd
 * --no-fsync. As root the module keeps uid/gid 0, or the daemon would drop to nobody.
 */
export async function startRsyncd(dir: string, root: string): Promise<Rsyncd> {
  const port = await freePort();
  const conf = join(dir, "rsyncd.conf");
  await writeFile(
    conf,
    [
      `pid file = ${join(dir, "rsyncd.pid")}`,
      `log file = ${join(dir, "rsyncd.log")}`,
      `port = ${port}`,
      "address = 127.0.0.1",
      "use chroot = false",
      "[bench]",
      `  path = ${root}`,
      "  read only = false",
      ...(process.getuid?.() === 0 ? ["  uid = 0", "  gid = 0"] : []),
      "",
    ].join("\n"),
  );
  const { child, stderr } = spawnDaemon("rsync", ["--daemon", "--no-detach", `--config=${conf}`]);
  try {
    await waitForPort(port, child, stderr);
  } catch (err) {
    await stopChild(child);
    throw err;
  }
  return {
    port,
    url: (path, via = port) => `rsync://127.0.0.1:${via}/bench/${path}`,
    stop: () => stopChild(child),
  };
}
