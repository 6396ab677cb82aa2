import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, writeSync } from "node:fs";
import { basename, join } from "node:path";
import { startFerryd } from "../ferryd.js";
import { FERRY_BIN } from "../paths.js";
import { timed } from "../stats.js";
import { type DelayProxyOptions, startDelayProxy } from "./delay-proxy.js";
import { runProcess } from "./process.js";
import type { PrivateSshd } from "./sshd.js";

/** A simulated long link: one-way delay each direction, optionally paced (see delay-proxy.ts). */
export type Link = Omit<DelayProxyOptions, "target">;

/**
 * One timed piece of work. Remote names are relative to the servers' shared root: every daemon in
 * the section serves the same folder, so each tool reads the same served copies.
 */
export type Job =
  /** `src` (a local tree) to root/basename(src). */
  | { kind: "tree-up"; src: string }
  /** root/name (a tree) to dest/name. */
  | { kind: "tree-down"; name: string; dest: string }
  /** `src` (a file) to root/name. */
  | { kind: "file-up"; src: string; name: string }
  /** root/name (a file) to dest/name. */
  | { kind: "file-down"; name: string; dest: string }
  /** Start, connect, `pwd`, quit: the cost of a process before its first byte. */
  | { kind: "startup" };

export interface RunResult {
  /** Wall time of the client process, start to exit. */
  seconds: number;
  /** The transfer alone, as ferry's --json line reports it (file jobs only). */
  transferSeconds?: number;
}

/** One run, ready to start: what it needs (a fresh ferryd, a proxy) is up; `run` is the timed part. */
export interface Prepared {
  run(): Promise<RunResult>;
  close(): Promise<void>;
}

export interface Tool {
  id: string;
  /** Starts what one run of `job` needs, untimed. */
  prepare(job: Job, link: Link | null): Promise<Prepared>;
}

/** A delay proxy in front of `port` when the row has a link, else `port` itself. */
async function via(port: number, link: Link | null): Promise<{ port: number; close(): Promise<void> }> {
  if (link === null) return { port, close: async () => {} };
  const proxy = await startDelayProxy({ target: { port }, ...link });
  return { port: proxy.port, close: () => proxy.close() };
}

function quoted(path: string): string {
  if (path.includes("'")) throw new Error(`the bench does not quote ${path}`);
  return `'${path}'`;
}

export interface FerryToolOptions {
  id: string;
  root: string;
  tls: boolean;
  fsync: boolean;
  /** The CLI's `--hash` (absent: its default, md5). */
  hash?: "xxh128";
  /** Node flags for ferryd and the CLI (e.g. --cpu-prof), by role. */
  nodeArgs(role: string): string[];
}

/**
 * ferry through the real CLI, a fresh process per run, against a fresh ferryd per run (started
 * before the clock, so no cache of an earlier run's md5s helps a later one; rsyncd and sshd fork a
 * fresh process per connection too).
 */
export function ferryTool(o: FerryToolOptions): Tool {
  return {
    id: o.id,
    async prepare(job, link) {
      const server = await startFerryd({
        root: o.root,
        tls: o.tls,
        args: o.fsync ? [] : ["--no-fsync"],
        nodeArgs: o.nodeArgs(`ferryd-${o.id}`),
      });
      const front = await via(server.port, link).catch(async (err) => {
        await server.stop();
        throw err;
      });
      const trust = server.fingerprint === null ? ["--no-tls"] : ["--fingerprint", server.fingerprint];
      let command: string;
      let cwd: string | undefined;
      const file = job.kind === "file-up" || job.kind === "file-down";
      if (job.kind === "tree-up") command = `mput -r ${quoted(job.src)}`;
      else if (job.kind === "tree-down") {
        command = `mget -r ${quoted(`/${job.name}`)}`;
        cwd = job.dest;
      } else if (job.kind === "file-up") command = `put ${quoted(job.src)} ${quoted(`/${job.name}`)}`;
      else if (job.kind === "file-down") {
        command = `get ${quoted(`/${job.name}`)}`;
        cwd = job.dest;
      } else command = "pwd";
      const args = [
        ...o.nodeArgs(`ferry-${o.id}`),
        FERRY_BIN,
        ...trust,
        "--no-progress",
        "-y",
        ...(o.hash ? ["--hash", o.hash] : []),
        // The transfer's own seconds for single files; trees keep the output a person sees.
        ...(file ? ["--json"] : []),
        "-c",
        command,
        `127.0.0.1:${front.port}`,
      ];
      return {
        async run() {
          const { seconds, value } = await timed(() => runProcess(process.execPath, args, { cwd }));
          const line = value.split("\n").find((l) => l.includes('"kind":"transfer"'));
          const transferSeconds = line ? (JSON.parse(line) as { seconds?: number }).seconds : undefined;
          return transferSeconds === undefined ? { seconds } : { seconds, transferSeconds };
        },
        async close() {
          await front.close();
          await server.stop();
        },
      };
    },
  };
}

/** rsync to our rsync daemon; `checksum` picks its whole-file check (default: its own, xxh128). */
export function rsyncTool(id: string, daemonPort: number, checksum: "md5" | null): Tool {
  return {
    id,
    async prepare(job, link) {
      const front = await via(daemonPort, link);
      const url = (path: string) => `rsync://127.0.0.1:${front.port}/bench/${path}`;
      const check = checksum === null ? [] : [`--checksum-choice=${checksum}`];
      let args: string[];
      if (job.kind === "tree-up") args = ["-r", job.src, url("")];
      else if (job.kind === "tree-down") args = ["-r", url(job.name), `${job.dest}/`];
      else if (job.kind === "file-up") args = [...check, job.src, url(job.name)];
      else if (job.kind === "file-down") args = [...check, url(job.name), `${job.dest}/`];
      else throw new Error("rsync has no start-up row");
      return {
        run: async () => ({ seconds: (await timed(() => runProcess("rsync", args))).seconds }),
        close: () => front.close(),
      };
    },
  };
}

/** OpenSSH's sftp to our private sshd (AES-GCM, as TLS 1.3 uses), its default buffer and requests. */
export function sftpTool(id: string, sshd: PrivateSshd, root: string): Tool {
  return {
    id,
    async prepare(job, link) {
      const front = await via(sshd.port, link);
      let commands: string[];
      if (job.kind === "tree-up") commands = [`put -r ${job.src} ${join(root, basename(job.src))}`];
      else if (job.kind === "tree-down")
        commands = [`get -r ${join(root, job.name)} ${join(job.dest, job.name)}`];
      else if (job.kind === "file-up") commands = [`put ${job.src} ${join(root, job.name)}`];
      else if (job.kind === "file-down")
        commands = [`get ${join(root, job.name)} ${join(job.dest, job.name)}`];
      else throw new Error("sftp has no start-up row");
      return {
        run: async () => ({ seconds: (await timed(() => sshd.sftp(commands, front.port))).seconds }),
        close: () => front.close(),
      };
    },
  };
}

/** A bare command timed alone: `node -e 0` for start-up, `md5sum FILE` for the hashing floor. */
export function commandTool(id: string, command: string, args: string[]): Tool {
  return {
    id,
    async prepare() {
      return {
        run: async () => ({ seconds: (await timed(() => runProcess(command, args))).seconds }),
        close: async () => {},
      };
    },
  };
}

/**
 * The disk alone: a tree copied by one synchronous loop (read, create a temporary name, write,
 * rename), no network and no process start. What any tool pays per small file on this file system in
 * this moment; on these VMs a create costs from 20 µs to over 1 ms depending on what the disk did just
 * before, so this sits beside the tools in the same rounds rather than in a baseline section.
 */
export function diskTool(id: string, root: string): Tool {
  return {
    id,
    async prepare(job) {
      let from: string;
      let to: string;
      if (job.kind === "tree-up") [from, to] = [job.src, join(root, basename(job.src))];
      else if (job.kind === "tree-down") [from, to] = [join(root, job.name), join(job.dest, job.name)];
      else throw new Error("the disk row copies trees only");
      return {
        run: async () => ({ seconds: (await timed(async () => copyTreeSync(from, to))).seconds }),
        close: async () => {},
      };
    },
  };
}

function copyTreeSync(from: string, to: string): void {
  mkdirSync(to);
  for (const e of readdirSync(from, { withFileTypes: true })) {
    const src = join(from, e.name);
    const dest = join(to, e.name);
    if (e.isDirectory()) copyTreeSync(src, dest);
    else if (e.isFile()) {
      const bytes = readFileSync(src);
      const temp = `${dest}.tmp`;
      const fd = openSync(temp, "wx");
      try {
        writeSync(fd, bytes);
      } finally {
        closeSync(fd);
      }
      renameSync(temp, dest);
    }
  }
}
