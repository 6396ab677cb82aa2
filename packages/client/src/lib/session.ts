import {
  type DfReply,
  type Entry,
  type EntryReply,
  FerryError,
  hashOf,
  type OkReply,
  type SumReply,
} from "@ferry/protocol";
import type { Connection } from "./connection.js";
import { listStream } from "./listing.js";
import { Semaphore } from "./semaphore.js";
import { type DownloadContext, download } from "./transfer/download.js";
import { upload } from "./transfer/upload.js";
import type {
  DiskUsage,
  FerrySession,
  ServerInfo,
  SumResult,
  TransferOptions,
  TransferResult,
} from "./types.js";

/** Small files read ahead of their turn; with files of at most 1 MiB this bounds that memory to 32 MiB. */
const READ_AHEAD_FILES = 32;
/** Small downloads verified in memory and still being written out (at most 1 MiB each). */
const WRITE_BEHIND_FILES = 32;

export class Session implements FerrySession {
  private readonly readAhead = new Semaphore(READ_AHEAD_FILES);
  private readonly downloads: DownloadContext;

  private info: ServerInfo;
  readonly ready: Promise<ServerInfo>;

  /** `ready` settles with the hello's answer; `server` is `provisional` until it resolves. */
  constructor(
    private readonly conn: Connection,
    provisional: ServerInfo,
    ready: Promise<ServerInfo>,
  ) {
    this.info = provisional;
    this.ready = ready.then((info) => {
      this.info = info;
      return info;
    });
    // Who wants the failure awaits `ready`; every request of the session fails with it anyway.
    this.ready.catch(() => {});
    this.downloads = {
      conn,
      commits: new Semaphore(WRITE_BEHIND_FILES),
      ordering: { tail: Promise.resolve() },
      alg: provisional.hash,
    };
  }

  get server(): ServerInfo {
    return this.info;
  }

  get closed(): boolean {
    return this.conn.failureReason !== null;
  }

  put(localPath: string, remotePath: string, opts: TransferOptions = {}): Promise<TransferResult> {
    return upload(
      { conn: this.conn, readAhead: this.readAhead, alg: this.server.hash },
      localPath,
      remotePath,
      opts,
    );
  }

  get(remotePath: string, localPath: string, opts: TransferOptions = {}): Promise<TransferResult> {
    return download(this.downloads, remotePath, localPath, opts);
  }

  listStream(path: string): AsyncIterable<Entry> {
    return listStream(this.conn, path, this.server.hash);
  }

  async list(path: string): Promise<Entry[]> {
    const entries: Entry[] = [];
    for await (const entry of this.listStream(path)) entries.push(entry);
    return entries;
  }

  async sum(path: string): Promise<SumResult> {
    const alg = this.server.hash;
    const reply = await this.conn.call<SumReply>(
      (id) => ({ cmd: "sum", id, path, ...(alg === "md5" ? {} : { alg }) }),
      "sum",
    );
    const hash = (reply.alg ?? "md5") === alg ? hashOf(reply) : undefined;
    if (hash === undefined) throw new FerryError("EPROTO", `the server answered a sum in ${alg} without one`);
    return { path, size: reply.size, mtime: reply.mtime, alg, hash, ...(alg === "md5" ? { md5: hash } : {}) };
  }

  /** The entry of `path`; a file's known hash is in the session's alg (`md5` or `hash`), or absent. */
  async stat(path: string): Promise<Entry> {
    const alg = this.server.hash;
    const reply = await this.conn.call<EntryReply>(
      (id) => ({ cmd: "stat", id, path, ...(alg === "md5" ? {} : { alg }) }),
      "entry",
    );
    if ((reply.alg ?? "md5") === alg) return reply.entry;
    // A hash in another algorithm than asked is no answer: keep the facts, drop the hash.
    const { md5: _md5, hash: _hash, ...facts } = reply.entry;
    return facts;
  }

  async mkdir(path: string, opts: { parents?: boolean } = {}): Promise<void> {
    await this.conn.call<OkReply>((id) => ({ cmd: "mkdir", id, path, parents: opts.parents === true }), "ok");
  }

  async delete(path: string, opts: { recursive?: boolean } = {}): Promise<void> {
    await this.conn.call<OkReply>(
      (id) => ({ cmd: "delete", id, path, recursive: opts.recursive === true }),
      "ok",
    );
  }

  async rename(from: string, to: string, opts: { overwrite?: boolean } = {}): Promise<void> {
    await this.conn.call<OkReply>(
      (id) => ({ cmd: "rename", id, from, to, overwrite: opts.overwrite === true }),
      "ok",
    );
  }

  async df(): Promise<DiskUsage> {
    const { free, total, quotaBytes, usedBytes, quotaFiles, usedFiles } = await this.conn.call<DfReply>(
      (id) => ({ cmd: "df", id }),
      "df",
    );
    return { free, total, quotaBytes, usedBytes, quotaFiles, usedFiles };
  }

  close(options: { wait?: boolean } = {}): Promise<void> {
    return this.conn.end(true, options.wait !== false);
  }
}
