import { closeSync, lstatSync, openSync, renameSync, utimesSync, writeSync } from "node:fs";
import { type FileHandle, open, rename, truncate, unlink, utimes, writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import {
  algOf,
  errorFromReply,
  FerryError,
  type FileReply,
  type Frame,
  type HashAlgorithm,
  hashOf,
  prefixHashFields,
  type RunningHash,
  type ServerFrame,
  utimesSeconds,
} from "@ferry/protocol";
import { AbortScope } from "../abort-scope.js";
import { type Connection, type RequestHandler, type Turn, unexpected } from "../connection.js";
import { localError } from "../errors.js";
import { ProgressReporter } from "../progress.js";
import type { Semaphore } from "../semaphore.js";
import type { TransferOptions, TransferResult } from "../types.js";
import { hashPrefix, SYNC_IO_MAX } from "./local-file.js";
import { transferHash } from "./transfer-hash.js";

/** A partial download lives beside its target under this suffix until its hash is verified. */
export const PART_SUFFIX = ".part";

/** Downloads up to this size are collected in memory and written once verified (no resume needed). */
export const IN_MEMORY_GET_MAX = 1024 * 1024;

interface Prefix {
  length: number;
  /** The hash of the `.part`'s bytes, in the session's alg. */
  hex: string;
  hash: RunningHash;
}

export interface DownloadContext {
  conn: Connection;
  /** Bounds small downloads verified in memory and still being written out. */
  commits: Semaphore;
  /** The settling of the previous get, so results resolve in call order. */
  ordering: { tail: Promise<unknown> };
  /** The session's hash algorithm. */
  alg: HashAlgorithm;
}

export async function download(
  context: DownloadContext,
  remotePath: string,
  localPath: string,
  opts: TransferOptions,
): Promise<TransferResult> {
  const { conn } = context;
  // Taken synchronously so concurrent calls keep their call order on the wire.
  const turnPromise = conn.reserveTurn();
  const abort = new AbortScope(opts.signal, conn);
  let turn: Turn | undefined;
  let prefix: Prefix | null = null;
  let handedOver = false;
  try {
    abort.throwIfAborted();
    const target = resolve(localPath);
    const part = target + PART_SUFFIX;
    // One lstat, synchronous: through the thread pool it cost ~0.35 ms of the main thread per file
    // (the wake-up of a pool thread and back), a hundred times the call itself. Small files are also
    // written synchronously (MemorySink), so no pool thread of ours holds the folder's lock meanwhile.
    checkTarget(target, localPath, opts.overwrite === true);
    if (opts.resume !== false) prefix = await hashPart(part, context.alg, opts.signal);
    abort.throwIfAborted();
    turn = await abort.race(turnPromise);
    abort.throwIfAborted();

    const id = conn.allocId();
    const request = new GetRequest({
      context,
      localPath,
      remotePath,
      target,
      part,
      prefix,
      onProgress: opts.onProgress,
      preserve: opts.preserve === true,
    });
    abort.goOnWire();
    conn.register(id, request);
    handedOver = true;
    const { alg } = context;
    const header = prefix
      ? { cmd: "get", id, path: remotePath, offset: prefix.length, alg, ...prefixHashFields(alg, prefix.hex) }
      : { cmd: "get", id, path: remotePath, offset: 0, ...(alg === "md5" ? {} : { alg }) };
    if (!conn.sendFrame(header)) await conn.drained();
    turn.release();
    return await request.result;
  } catch (err) {
    throw abort.error(err);
  } finally {
    if (turn) turn.release();
    else void turnPromise.then((t) => t.release());
    if (!handedOver) prefix?.hash.close();
    abort.dispose();
  }
}

function checkTarget(target: string, localPath: string, overwrite: boolean): void {
  let st: ReturnType<typeof lstatSync>;
  try {
    st = lstatSync(target, { throwIfNoEntry: false });
  } catch (err) {
    throw localError(err, localPath);
  }
  if (st === undefined) return;
  if (st.isDirectory()) {
    throw new FerryError("EISDIR", `local ${localPath} is a directory`, { local: true, path: localPath });
  }
  if (!overwrite) {
    throw new FerryError("EEXIST", `local file ${localPath} already exists`, {
      local: true,
      path: localPath,
    });
  }
}

/** Hashes an existing `.part`, the prefix a resumed download continues from; null when there is none. */
async function hashPart(
  part: string,
  alg: HashAlgorithm,
  signal: AbortSignal | undefined,
): Promise<Prefix | null> {
  let file: Awaited<ReturnType<typeof open>> | undefined;
  try {
    file = await open(part, "r");
    const st = await file.stat();
    if (!st.isFile() || st.size === 0) return null;
    const hash = transferHash(st.size, alg);
    try {
      const length = await hashPrefix(file, st.size, hash, signal);
      return { length, hex: await hash.peek(), hash };
    } catch (err) {
      hash.close();
      throw err;
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw localError(err, part);
  } finally {
    await file?.close();
  }
}

interface GetSetup {
  context: DownloadContext;
  localPath: string;
  remotePath: string;
  target: string;
  part: string;
  prefix: Prefix | null;
  onProgress: TransferOptions["onProgress"];
  /** Give the file the server's mtime (before the rename, so the name never shows another). */
  preserve: boolean;
}

/** Where received bytes go: memory for small files, the `.part` file otherwise. */
interface Sink {
  write(chunk: Buffer): void | Promise<void>;
  /** Flushes and closes; never throws (errors were recorded). */
  close(): Promise<void>;
  /** Makes the verified bytes the target, dated `mtime` (ms) when given. */
  commit(part: string, target: string, mtime: number | undefined): Promise<void>;
}

/**
 * The answer to one get: `file`, one `data` frame, then `end` when the reply had no md5. Local
 * failures (a full disk) are recorded and the payload is still read to its end, so the connection
 * stays usable; only the server breaking the protocol breaks the connection.
 */
class GetRequest implements RequestHandler {
  readonly result: Promise<TransferResult>;
  private resolveResult!: (r: TransferResult) => void;
  private rejectResult!: (e: FerryError) => void;
  private state: "reply" | "data" | "end" | "over" = "reply";
  private file: FileReply | undefined;
  private hash: RunningHash | undefined;
  private sink: Sink | undefined;
  private progress: ProgressReporter | undefined;
  /** The whole file's hash when the file reply carried it (then no trailer follows). */
  private known: string | undefined;
  private localFailure: FerryError | null = null;

  constructor(private readonly setup: GetSetup) {
    this.result = new Promise((resolve, reject) => {
      this.resolveResult = resolve;
      this.rejectResult = reject;
    });
  }

  async onFrame(msg: ServerFrame, frame: Frame): Promise<boolean> {
    if ("ok" in msg && !msg.ok) {
      await this.stop(errorFromReply(msg));
      return true;
    }
    switch (this.state) {
      case "reply":
        if (!("ok" in msg) || msg.type !== "file") throw unexpected(msg, "a file reply");
        await this.start(msg);
        return false;
      case "data":
        if (!("cmd" in msg) || msg.cmd !== "data") throw unexpected(msg, "a data frame");
        await this.receive(msg, frame);
        if (this.known !== undefined) {
          await this.finish(this.known);
          return true;
        }
        this.state = "end";
        return false;
      case "end":
        if (!("cmd" in msg) || msg.cmd !== "end") throw unexpected(msg, "an end frame");
        await this.finish(this.theirs(msg));
        return true;
      default:
        throw unexpected(msg, "nothing");
    }
  }

  onFail(err: FerryError): void {
    this.state = "over";
    this.hash?.close();
    this.setup.prefix?.hash.close();
    // The connection broke between frames (or while the file reply opened the .part): what arrived is
    // flushed to the .part and its file closed before the caller hears, who may resume from it at once.
    const closing = this.sink?.close() ?? Promise.resolve();
    void closing.then(() => this.rejectResult(err));
  }

  private async start(file: FileReply): Promise<void> {
    const { prefix, part } = this.setup;
    const requested = prefix?.length ?? 0;
    if (file.offset !== 0 && file.offset !== requested) {
      throw new FerryError("EPROTO", `the server offered offset ${file.offset}, ${requested} was asked for`);
    }
    if (file.offset > file.size) {
      throw new FerryError("EPROTO", `the server's offset ${file.offset} is past its size ${file.size}`);
    }
    this.file = file;
    if (file.md5 !== undefined || file.hash !== undefined) this.known = this.theirs(file);
    if (file.offset > 0 && prefix) {
      this.hash = prefix.hash;
    } else {
      prefix?.hash.close();
      this.hash = transferHash(file.size, this.setup.context.alg);
    }
    this.state = "data";
    this.progress = new ProgressReporter(file.size, this.setup.onProgress);
    this.progress.begin(file.offset);
    try {
      if (file.offset === 0 && file.size <= IN_MEMORY_GET_MAX) {
        this.sink = new MemorySink(file.size);
      } else {
        if (file.offset > 0) await truncate(part, file.offset);
        this.sink = await FileSink.open(part, file.offset);
      }
    } catch (err) {
      this.localFailure = localError(err, part);
    }
  }

  private async receive(data: { offset: number; size: number }, frame: Frame): Promise<void> {
    const file = this.file!;
    if (data.offset !== file.offset || data.size !== file.size - file.offset) {
      throw new FerryError(
        "EPROTO",
        `the server sent ${data.size} bytes from ${data.offset}; its file reply announced ${file.size - file.offset} from ${file.offset}`,
      );
    }
    const hash = this.hash!;
    const progress = this.progress!;
    try {
      for await (const chunk of frame.payload) {
        if (!hash.update(chunk)) await hash.whenWritable();
        if (this.localFailure === null && this.sink) {
          try {
            const waiting = this.sink.write(chunk);
            if (waiting) await waiting;
          } catch (err) {
            this.localFailure = localError(err, this.setup.part);
          }
        }
        progress.add(chunk.length);
      }
    } catch (err) {
      // The connection broke mid-payload: keep what reached the disk, for a resume.
      await this.sink?.close();
      throw err;
    }
  }

  private async finish(expected: string): Promise<void> {
    this.state = "over";
    const actual = await this.hash!.digest();
    await this.sink?.close();
    const sink = this.sink;
    if (this.localFailure || sink === undefined) {
      return this.settle(Promise.reject(this.localFailure ?? new FerryError("EINTERNAL", "no sink")));
    }
    if (actual !== expected) return this.settle(this.mismatch(expected, actual));
    if (sink instanceof MemorySink) {
      // A small file's bytes are verified and in memory: write them out while the next replies are
      // read, so pipelined gets do not wait on this disk one by one. The semaphore bounds that memory.
      const { commits } = this.setup.context;
      await commits.acquire();
      const committing = this.commit(sink, actual);
      void committing.finally(() => commits.release()).catch(() => {});
      return this.settle(committing);
    }
    return this.settle(Promise.resolve(this.commit(sink, actual)));
  }

  /** The server's hash in a reply or trailer: in our alg, or the server broke the protocol. */
  private theirs(m: Parameters<typeof hashOf>[0]): string {
    const { alg } = this.setup.context;
    const hex = algOf(m) === alg ? hashOf(m) : undefined;
    if (hex === undefined) {
      throw new FerryError("EPROTO", `the server answered a get in ${alg} with no ${alg} hash (${algOf(m)})`);
    }
    return hex;
  }

  private async commit(sink: Sink, hex: string): Promise<TransferResult> {
    const { part, target, localPath, remotePath, preserve } = this.setup;
    const file = this.file!;
    try {
      await sink.commit(part, target, preserve ? file.mtime : undefined);
    } catch (err) {
      throw localError(err, localPath);
    }
    return this.progress!.result({
      local: localPath,
      remote: remotePath,
      size: file.size,
      alg: this.setup.context.alg,
      hash: hex,
      resumedFrom: file.offset,
      mtime: file.mtime,
    });
  }

  private async mismatch(expected: string, actual: string): Promise<never> {
    const { part, localPath, remotePath } = this.setup;
    await unlink(part).catch(() => {});
    const { alg } = this.setup.context;
    throw new FerryError(
      "ECHECKSUM",
      `${alg} of the received bytes is ${actual}, the server's is ${expected}`,
      {
        expected,
        actual,
        local: localPath,
        remote: remotePath,
      },
    );
  }

  /** Resolves this get after the gets before it, so results come in call order. */
  private settle(outcome: Promise<TransferResult>): void {
    outcome.catch(() => {});
    const { ordering } = this.setup.context;
    ordering.tail = ordering.tail.then(() => outcome).then(this.resolveResult, this.rejectResult);
  }

  /** The server answered an error: keep any partial for a later resume. */
  private async stop(err: FerryError): Promise<void> {
    this.state = "over";
    this.hash?.close();
    if (!this.hash) this.setup.prefix?.hash.close();
    await this.sink?.close();
    this.rejectResult(err);
  }
}

/** A small file's bytes, copied out of the socket's read buffers (which are reused) into one buffer. */
class MemorySink implements Sink {
  private readonly bytes: Buffer;
  private filled = 0;

  constructor(size: number) {
    this.bytes = Buffer.allocUnsafe(size);
  }

  write(chunk: Buffer): void {
    // The server announced the size and the reader enforces it; this only guards the copy.
    this.filled += chunk.copy(this.bytes, this.filled);
  }

  async close(): Promise<void> {}

  async commit(part: string, target: string, mtime: number | undefined): Promise<void> {
    // A file this small (SYNC_IO_MAX) is created, written, dated and renamed with synchronous
    // calls: each call through the thread pool cost the main thread 0.4-0.6 ms here (the hand-off to
    // a pool thread and back on a busy 2-core VM), the synchronous ones tens of µs. The pool's
    // overlap bought nothing: creates and renames in one folder take its lock one at a time anyway.
    const bytes = this.bytes.subarray(0, this.filled);
    if (bytes.length > SYNC_IO_MAX) {
      await writeFile(part, bytes);
      if (mtime !== undefined) await setMtime(part, mtime);
      await rename(part, target);
      return;
    }
    const fd = openSync(part, "w");
    try {
      writeAllSync(fd, bytes);
    } finally {
      closeSync(fd);
    }
    if (mtime !== undefined) utimesSync(part, utimesSeconds(Date.now()), utimesSeconds(mtime));
    renameSync(part, target);
  }
}

/** Received bytes are gathered into blocks of this size before they go to the disk. */
const WRITE_BLOCK = 1024 * 1024;

/**
 * The most one write system call is handed: Linux gives a new file page-cache folios as large as the
 * write, and 1 MiB ones come from the free blocks these VMs hand back to their host, so their copy
 * faults on the host (see the server's WRITE_SYSCALL_MAX, measured the same way).
 */
const WRITE_SYSCALL_MAX = 256 * 1024;

/**
 * Writes the payload to the `.part` in 1 MiB blocks from two buffers used in turn: one is being
 * filled from the socket while the other is being written, so memory is fixed at 2 MiB whatever the
 * file size, and the disk sees a thousand writes per GiB rather than one per 64 KiB socket read.
 */
class FileSink implements Sink {
  private block = Buffer.allocUnsafeSlow(WRITE_BLOCK);
  private spare = Buffer.allocUnsafeSlow(WRITE_BLOCK);
  private filled = 0;
  private writing: Promise<void> = Promise.resolve();
  private failure: unknown = null;
  private closed: Promise<void> | null = null;

  private constructor(
    private readonly file: FileHandle,
    private position: number,
  ) {}

  static async open(part: string, offset: number): Promise<FileSink> {
    return new FileSink(await open(part, offset > 0 ? "r+" : "w"), offset);
  }

  write(chunk: Buffer): void | Promise<void> {
    if (this.failure !== null) throw this.failure;
    const take = Math.min(WRITE_BLOCK - this.filled, chunk.length);
    chunk.copy(this.block, this.filled, 0, take);
    this.filled += take;
    if (this.filled < WRITE_BLOCK) return;
    return this.flush().then(() => (take < chunk.length ? this.write(chunk.subarray(take)) : undefined));
  }

  close(): Promise<void> {
    this.closed ??= (async () => {
      try {
        if (this.failure === null) await this.flush();
        await this.writing;
      } catch {
        // Recorded in `failure`; a partial that cannot be flushed simply resumes from less.
      }
      await this.file.close().catch(() => {});
    })();
    return this.closed;
  }

  async commit(part: string, target: string, mtime: number | undefined): Promise<void> {
    await this.close();
    if (this.failure !== null) throw this.failure;
    if (mtime !== undefined) await setMtime(part, mtime);
    await rename(part, target);
  }

  /** Waits for the previous block's write, then starts writing the current one and swaps buffers. */
  private async flush(): Promise<void> {
    await this.writing;
    if (this.failure !== null) throw this.failure;
    if (this.filled === 0) return;
    const bytes = this.block.subarray(0, this.filled);
    const at = this.position;
    this.position += this.filled;
    this.writing = writeAll(this.file, bytes, at).catch((err) => {
      this.failure ??= err;
    });
    [this.block, this.spare] = [this.spare, this.block];
    this.filled = 0;
  }
}

function writeAllSync(fd: number, bytes: Buffer): void {
  let done = 0;
  while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done, done);
}

async function writeAll(file: FileHandle, bytes: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const length = Math.min(WRITE_SYSCALL_MAX, bytes.length - done);
    const { bytesWritten } = await file.write(bytes, done, length, position + done);
    done += bytesWritten;
  }
}

/** Dates a file `mtime` (ms since the epoch), to the millisecond (see utimesSeconds). */
async function setMtime(file: string, mtime: number): Promise<void> {
  await utimes(file, utimesSeconds(Date.now()), utimesSeconds(mtime));
}
