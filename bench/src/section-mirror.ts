import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, readdir, stat, writeFile } from "node:fs/promises";
import { createServer, connect as tcpConnect } from "node:net";
import { join } from "node:path";
import { hasCommand } from "./baselines.js";
import { type BenchContext, withTempDir } from "./context.js";
import { loadConnect, loadMirror } from "./ferry-client.js";
import { cleanEnv, startFerryd, stopChild } from "./ferryd.js";
import { DATA_DIR, FERRY_BIN } from "./paths.js";
import { judged, type Row } from "./report.js";
import { sizeLabel, timed } from "./stats.js";

const NO_CHANGE_TARGET_S = 1;
const PYTHON = "/usr/bin/python3";

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
  if (!hasCommand("rsync")) {
    ctx.rows.push(row("rsync -rt", null, "rsync is not installed: apt-get install -y rsync"));
    raw.rsync = "not installed";
  } else {
    await withTempDir("mirror-rsync", async (dir) => {
      const root = join(dir, "root");
      await mkdir(root);
      const port = await freePort();
      const conf = join(dir, "rsyncd.conf");
      await writeFile(
        conf,
        [
          `pid file = ${join(dir, "rsyncd.pid")}`,
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
      const daemon = spawn("rsync", ["--daemon", "--no-detach", `--config=${conf}`], {
        stdio: "ignore",
        env: cleanEnv(),
      });
      try {
        await waitForPort(port, daemon);
        const run = () =>
          timed(() => runProcess("rsync", ["-rt", `${src}/`, `rsync://127.0.0.1:${port}/bench/m/`]));
        ctx.log("mirror: rsync -rt, first run");
        const first = await run();
        ctx.log("mirror: rsync -rt, nothing changed");
        const again = await run();
        await expectFiles(join(root, "m"), count);
        raw.rsync = { first: first.seconds, again: again.seconds };
        ctx.rows.push(row("rsync -rt to rsyncd, first run", first.seconds));
        ctx.rows.push(row("rsync -rt to rsyncd, nothing changed", again.seconds));
      } finally {
        await stopChild(daemon);
      }
    });
  }

  // lftp: mirror -R to an FTP server on loopback.
  const lftp = hasCommand("lftp");
  const ftpd =
    hasCommand(PYTHON) &&
    (await runProcess(PYTHON, ["-c", "import pyftpdlib"]).then(
      () => true,
      () => false,
    ));
  if (!lftp || !ftpd) {
    const missing = [!lftp && "lftp", !ftpd && "python3-pyftpdlib"].filter(Boolean).join(" ");
    ctx.rows.push(row("lftp mirror -R", null, `not installed: apt-get install -y ${missing}`));
    raw.lftp = "not installed";
  } else {
    await withTempDir("mirror-lftp", async (dir) => {
      const root = join(dir, "root");
      await mkdir(root);
      const port = await freePort();
      const server = spawn(
        PYTHON,
        ["-m", "pyftpdlib", "-i", "127.0.0.1", "-p", String(port), "-w", "-d", root],
        {
          stdio: "ignore",
          env: cleanEnv(),
        },
      );
      try {
        await waitForPort(port, server);
        const script = `set cmd:fail-exit yes; set net:max-retries 1; open -p ${port} 127.0.0.1; mirror -R '${src}' /m`;
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
        await stopChild(server);
      }
    });
  }
  ctx.raw.mirror = { files: count, size: opts.smallSize, ...raw };
}

/** `count` files of `size` pseudo-random bytes in 10 subdirectories, written once. */
async function ensureTree(dir: string, count: number, size: number): Promise<void> {
  const perDir = Math.ceil(count / 10);
  const done = await expectFiles(dir, count).then(
    () => true,
    () => false,
  );
  if (done) return;
  for (let i = 0; i < count; i++) {
    const sub = join(dir, `d${String(Math.floor(i / perDir)).padStart(2, "0")}`);
    await mkdir(sub, { recursive: true });
    const bytes = Buffer.alloc(size);
    let block = createHash("sha256").update(`mirror ${i}`).digest();
    for (let at = 0; at < size; at += block.length) {
      block.copy(bytes, at);
      block = createHash("sha256").update(block).digest();
    }
    await writeFile(join(sub, `f${String(i).padStart(4, "0")}.bin`), bytes);
  }
}

/** Throws unless `dir` holds exactly `count` files (in its subdirectories). */
async function expectFiles(dir: string, count: number): Promise<void> {
  let n = 0;
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      if (e.isDirectory()) await walk(join(d, e.name));
      else if (e.isFile() && (await stat(join(d, e.name))).size >= 0) n++;
    }
  };
  await walk(dir);
  if (n !== count) throw new Error(`${dir} holds ${n} files, expected ${count}`);
}

function runProcess(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], env: cleanEnv() });
    let out = "";
    let err = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => {
      out += s;
    });
    child.stderr.setEncoding("utf8").on("data", (s: string) => {
      err = (err + s).slice(-4000);
    });
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${command} exited with code ${code}: ${err.trim()}`)),
    );
  });
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

/** Resolves once something accepts connections on 127.0.0.1:port; rejects if `child` exits first. */
async function waitForPort(port: number, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`the server exited with code ${child.exitCode}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = tcpConnect({ host: "127.0.0.1", port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.on("error", () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`nothing listens on 127.0.0.1:${port}`);
}
