import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { hasCommand } from "./baselines.js";
import { type BenchContext, withTempDir } from "./context.js";
import { loadConnect, loadMirror } from "./ferry-client.js";
import { startFerryd } from "./ferryd.js";
import { DATA_DIR, FERRY_BIN } from "./paths.js";
import { runProcess } from "./peers/process.js";
import { PYFTPD_INSTALL, pyftpdAvailable, startPyftpd } from "./peers/pyftpd.js";
import { RSYNC_INSTALL, rsyncUnavailable, startRsyncd } from "./peers/rsyncd.js";
import { judged, type Row } from "./report.js";
import { sizeLabel, timed } from "./stats.js";
import { ensureTree, expectFiles } from "./tree.js";

const NO_CHANGE_TARGET_S = 1;

/**
 * Section 8: `mirror -R` of a tree of small files (10 directories × count/10 files) to a fresh
 * server, then the same command again with nothing changed, against `rsync -rt` to an rsync daemon
 * and `lftp mirror -R` to an FTP server (pyftpdlib), all on 127.0.0.1 and in the same run. Each is a
 * fresh client process (as a CI step runs it), so its start-up counts; every server runs without
 * fsync, as rsyncd and pyftpdlib do. A peer that is not installed is a row that says how to get it.
 */
export async function runMirror(ctx: BenchContext): Promise<void> {
  const { opts } = ctx;
  const count = opts.smallCount;
  const src = join(DATA_DIR, `mirror-${count}x${opts.smallSize}`);
  await ensureTree(src, count, opts.smallSize);
  const section = `8 mirror ${count} × ${sizeLabel(opts.smallSize)}`;
  const raw: Record<string, Record<string, number> | string> = {};
  const row = (name: string, value: number | null, note?: string): Row => ({
    section,
    name,
    value,
    unit: "s",
    ...(note ? { note } : {}),
  });

  // ferry: the real CLI against the real ferryd.
  await withTempDir("mirror-ferry", async (dir) => {
    const root = join(dir, "root");
    await mkdir(root);
    const server = await startFerryd({
      root,
      args: ["--no-fsync"],
      nodeArgs: ctx.nodeArgs("ferryd-mirror"),
    });
    try {
      const run = async () => {
        const args = [
          "--no-tls",
          "--no-progress",
          "--json",
          "-c",
          `mirror -R '${src}' /m`,
          `${server.host}:${server.port}`,
        ];
        const { seconds, value } = await timed(() =>
          runProcess(process.execPath, [...ctx.nodeArgs("ferry-mirror"), FERRY_BIN, ...args]),
        );
        const summary = value
          .split("\n")
          .filter((l) => l.includes('"kind":"mirror"'))
          .pop();
        return {
          seconds,
          summary: summary ? (JSON.parse(summary) as { transfers: number; sent: number }) : null,
        };
      };
      ctx.log(`mirror: ferry mirror -R of ${count} files, first run`);
      const first = await run();
      if (first.summary?.transfers !== count)
        throw new Error(`ferry's first mirror sent ${first.summary?.transfers} files`);
      ctx.log("mirror: ferry, nothing changed");
      const again = await run();
      if (again.summary?.transfers !== 0 || again.summary.sent !== 0)
        throw new Error("ferry's second mirror sent files");
      await expectFiles(join(root, "m"), count);
      // The same check inside one process on an open session: what the check itself costs, without
      // Node's start-up and the CLI's modules (about a second of the figure above on these VMs).
      const [connect, mirror] = await Promise.all([loadConnect(), loadMirror()]);
      const session = await connect({
        host: server.host,
        port: server.port,
        tls: false,
        clientName: "ferry-bench",
      });
      let inProcess: number;
      try {
        const check = await timed(() => mirror(session, { direction: "upload", local: src, remote: "/m" }));
        if (check.value.transferred.length !== 0) throw new Error("the in-process mirror sent files");
        inProcess = check.seconds;
      } finally {
        await session.close();
      }
      const startup = await timed(() => runProcess(process.execPath, [FERRY_BIN, "--version"]));
      raw.ferry = { first: first.seconds, again: again.seconds, inProcess, startup: startup.seconds };
      ctx.rows.push(row("ferry mirror -R, first run", first.seconds));
      ctx.rows.push(
        row(
          "ferry mirror -R, nothing changed",
          again.seconds,
          `of which ${startup.seconds.toFixed(2)} s is \`ferry --version\` (start-up alone)`,
        ),
      );
      ctx.rows.push(
        judged(
          row("mirror() on an open session, nothing changed", inProcess),
          "<",
          NO_CHANGE_TARGET_S,
          "< 1",
        ),
      );
    } finally {
      await server.stop();
    }
  });

  // rsync: the daemon with its own config in the temp folder, rsync -rt (mtimes kept, as mirror keeps them).
  if (rsyncUnavailable()) {
    ctx.rows.push(row("rsync -rt", null, `rsync is not installed: ${RSYNC_INSTALL}`));
    raw.rsync = "not installed";
  } else {
    await withTempDir("mirror-rsync", async (dir) => {
      const root = join(dir, "root");
      await mkdir(root);
      const daemon = await startRsyncd(dir, root);
      try {
        const run = () => timed(() => runProcess("rsync", ["-rt", `${src}/`, daemon.url("m/")]));
        ctx.log("mirror: rsync -rt, first run");
        const first = await run();
        ctx.log("mirror: rsync -rt, nothing changed");
        const again = await run();
        await expectFiles(join(root, "m"), count);
        raw.rsync = { first: first.seconds, again: again.seconds };
        ctx.rows.push(row("rsync -rt to rsyncd, first run", first.seconds));
        ctx.rows.push(row("rsync -rt to rsyncd, nothing changed", again.seconds));
      } finally {
        await daemon.stop();
      }
    });
  }

  // lftp: mirror -R to an FTP server on loopback.
  const lftp = hasCommand("lftp");
  const ftpd = await pyftpdAvailable();
  if (!lftp || !ftpd) {
    const missing = [!lftp && "apt-get install -y lftp", !ftpd && PYFTPD_INSTALL].filter(Boolean).join("; ");
    ctx.rows.push(row("lftp mirror -R", null, `not installed: ${missing}`));
    raw.lftp = "not installed";
  } else {
    await withTempDir("mirror-lftp", async (dir) => {
      const root = join(dir, "root");
      await mkdir(root);
      const server = await startPyftpd(root);
      try {
        const script = `set cmd:fail-exit yes; set net:max-retries 1; open -p ${server.port} 127.0.0.1; mirror -R '${src}' /m`;
        const run = () => timed(() => runProcess("lftp", ["-c", script]));
        ctx.log("mirror: lftp mirror -R, first run");
        const first = await run();
        ctx.log("mirror: lftp mirror -R, nothing changed");
        const again = await run();
        await expectFiles(join(root, "m"), count);
        raw.lftp = { first: first.seconds, again: again.seconds };
        ctx.rows.push(row("lftp mirror -R to pyftpdlib, first run", first.seconds));
        ctx.rows.push(row("lftp mirror -R to pyftpdlib, nothing changed", again.seconds));
      } finally {
        await server.stop();
      }
    });
  }
  ctx.raw.mirror = { files: count, size: opts.smallSize, ...raw };
}
