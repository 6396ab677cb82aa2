import { closeSync, fstatSync, openSync, readSync, type Stats, statSync } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import {
  algOf,
  type DoneReply,
  errorFromReply,
  FerryError,
  type HashAlgorithm,
  hashFields,
  hashOf,
  mtimeOf,
  type ReadyReply,
  type RunningHash,
  type ServerFrame,
} from "@ferry/protocol";
import { AbortScope } from "../abort-scope.js";
import type { Connection, RequestHandler, Turn } from "../connection.js";
import { unexpected } from "../connection.js";
import { connectionLost, localError } from "../errors.js";
import { ProgressReporter } from "../progress.js";
import type { Semaphore } from "../semaphore.js";
import type { TransferOptions, TransferResult } from "../types.js";
import {
  assertUnchanged,
  assertUnchangedSync,
  hashPrefix,
  readRange,
  SYNC_IO_MAX,
  shrankError,
} from "./local-file.js";
import { hashOfBytes, transferHash } from "./transfer-hash.js";

/**
 * Files up to this size go as a streamed put: read whole (one 1 MiB block at most), hashed, and sent
 * back to back with other requests, so many small files pipeline without a round trip each. Bigger
 * files use a handshake put, which costs one round trip (negligible next to moving > 1 MiB) and buys
 * resume and refusal before any payload is sent.
 */
export const STREAMED_PUT_MAX = 1024 * 1024;

/**
 * When the server fails a put while its data is still being sent, the rest is sent anyway (the
 * server discards it and the session goes on) unless more than this is left; then the connection is
 * dropped instead and the caller reconnects.
 */
export const ABANDON_AFTER_REFUSAL = 64 * 1024 * 1024;

export interface UploadContext {
  conn: Connection;
  /** Bounds the memory of small files read ahead of their turn. */
  readAhead: Semaphore;
  /** The session's hash algorithm. */
  alg: HashAlgorithm;
}

export async function upload(
  ctx: UploadContext,
  localPath: string,
  remotePath: string,
  opts: TransferOptions,
): Promise<TransferResult> {
  const { conn } = ctx;
  // Both are taken synchronously, so concurrent calls keep their call order on the wire.
  const turnPromise = conn.reserveTurn();
  const permit = ctx.readAhead.acquire();
  const abort = new AbortScope(opts.signal, conn);
  let permitState: "waiting" | "held" | "released" = "waiting";
  const releasePermit = () => {
    permitState = "released";
    ctx.readAhead.release();
  };
  let turn: Turn | undefined;
  try {
    abort.throwIfAborted();
    await abort.race(permit);
    permitState = "held";
    let st: Stats;
    try {
      // One syscall: cheaper on the main thread than a round trip through the thread pool.
      st = statSync(localPath);
    } catch (err) {
      throw localError(err, localPath);
    }
    if (!st.isFile()) {
      const code = st.isDirectory() ? "EISDIR" : "EBADPATH";
      throw new FerryError(code, `local ${localPath} is not a regular file`, {
        local: true,
        path: localPath,
      });
    }
    // Only a handshake put can continue from the target's bytes: resumeTarget always takes that road.
    const read =
      st.size > STREAMED_PUT_MAX || opts.resumeTarget === true
        ? null
        : st.size <= SYNC_IO_MAX
          ? readSmallSync(localPath, st.size)
          : await readSmall(localPath, st.size);
    const small = read && { ...read, hash: await hashOfBytes(ctx.alg, read.bytes) };
    if (small === null) releasePermit();
    turn = await abort.race(turnPromise);
    abort.throwIfAborted();
    const result =
      small !== null
        ? await streamedPut(conn, turn, abort, ctx.alg, small, localPath, remotePath, opts, () => {
            // The bytes now sit in the socket's buffer (bounded by drain): read the next file ahead.
            if (permitState === "held") releasePermit();
          })
        : await handshakePut(conn, turn, abort, ctx.alg, localPath, remotePath, opts);
    return result;
  } catch (err) {
    throw abort.error(err);
  } finally {
    if (permitState === "held") releasePermit();
    else if (permitState === "waiting") void permit.then(releasePermit);
    if (turn) turn.release();
    else void turnPromise.then((t) => t.release());
    abort.dispose();
  }
}

interface SmallFile {
  bytes: Buffer;
  /** Of the version read (its stat at open, unchanged until the last read). */
  mtime: number;
}

/**
 * Reads a small file whole: open, one read, close. The read asks for one byte more than the size,
 * so a short read is the end of the file (a regular file reads short only there) and no second read
 * is needed to see it. Null when it turned out bigger than announced (it is then streamed). A file
 * that changed while it was read is ECHANGED, before anything of it is sent.
 */
async function readSmall(path: string, expected: number): Promise<SmallFile | null> {
  let file: FileHandle | undefined;
  try {
    file = await open(path, "r");
    const opened = await file.stat();
    const buffer = Buffer.allocUnsafe(expected + 1);
    let filled = 0;
    for (;;) {
      const { bytesRead } = await file.read(buffer, filled, buffer.length - filled, filled);
      filled += bytesRead;
      if (filled === buffer.length) return null;
      if (bytesRead === 0 || filled === expected) break;
    }
    await assertUnchanged(file, opened, path);
    const bytes = buffer.subarray(0, filled);
    return { bytes, mtime: mtimeOf(opened) };
  } catch (err) {
    throw localError(err, path);
  } finally {
    await file?.close();
  }
}

/** readSmall with synchronous calls, for files up to SYNC_IO_MAX (see there). */
function readSmallSync(path: string, expected: number): SmallFile | null {
  let fd: number | undefined;
  try {
    fd = openSync(path, "r");
    const opened = fstatSync(fd);
    const buffer = Buffer.allocUnsafe(expected + 1);
    let filled = 0;
    for (;;) {
      const bytesRead = readSync(fd, buffer, filled, buffer.length - filled, filled);
      filled += bytesRead;
      if (filled === buffer.length) return null;
      if (bytesRead === 0 || filled === expected) break;
    }
    assertUnchangedSync(fd, opened, path);
    const bytes = buffer.subarray(0, filled);
    return { bytes, mtime: mtimeOf(opened) };
  } catch (err) {
    throw localError(err, path);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

async function streamedPut(
  conn: Connection,
  turn: Turn,
  abort: AbortScope,
  alg: HashAlgorithm,
  small: SmallFile & { hash: string },
  localPath: string,
  remotePath: string,
  opts: TransferOptions,
  sent: () => void,
): Promise<TransferResult> {
  const { bytes, hash, mtime } = small;
  const size = bytes.length;
  const id = conn.allocId();
  const replies = new PutReplies(false);
  const progress = new ProgressReporter(size, opts.onProgress);
  abort.goOnWire();
  conn.register(id, replies);
  conn.cork();
  conn.sendFrame({
    cmd: "put",
    id,
    path: remotePath,
    size,
    alg,
    ...hashFields(alg, hash),
    overwrite: opts.overwrite === true,
    parents: opts.parents === true,
    ...(opts.preserve === true ? { mtime } : {}),
  });
  conn.sendFrame({ cmd: "data", id, offset: 0, size });
  progress.begin(0);
  if (conn.limited && size > 0) {
    conn.uncork();
    await conn.writePaced(bytes, (n) => progress.add(n));
  } else {
    const flushed = size === 0 || conn.write(bytes);
    conn.uncork();
    progress.add(size);
    if (!flushed) await conn.drained();
  }
  turn.release();
  sent();
  const done = await replies.done;
  verify(done, size, alg, hash);
  return progress.result({ local: localPath, remote: remotePath, size, alg, hash, resumedFrom: 0, mtime });
}

async function handshakePut(
  conn: Connection,
  turn: Turn,
  abort: AbortScope,
  alg: HashAlgorithm,
  localPath: string,
  remotePath: string,
  opts: TransferOptions,
): Promise<TransferResult> {
  let file: FileHandle;
  let opened: Stats;
  try {
    file = await open(localPath, "r");
    opened = await file.stat();
  } catch (err) {
    throw localError(err, localPath);
  }
  const size = opened.size;
  let hash: RunningHash | undefined;
  // True while the server expects more frames of this put: breaking off then desynchronises the stream.
  let owing = false;
  try {
    const id = conn.allocId();
    const replies = new PutReplies(true);
    abort.goOnWire();
    conn.register(id, replies);
    owing = true;
    if (
      !conn.sendFrame({
        cmd: "put",
        id,
        path: remotePath,
        size,
        alg,
        overwrite: opts.overwrite === true,
        parents: opts.parents === true,
        handshake: true,
        ...(opts.resumeTarget === true && opts.overwrite === true ? { resumeTarget: true } : {}),
        ...(opts.preserve === true ? { mtime: mtimeOf(opened) } : {}),
      })
    ) {
      await conn.drained();
    }
    let ready: ReadyReply;
    try {
      ready = await replies.ready;
    } catch (err) {
      owing = false; // refused: the server expects nothing more for this put
      throw err;
    }

    hash = transferHash(size, alg);
    let start = 0;
    const offered = ready.offset;
    // Read from the field of our alg only: a prefix in another algorithm is no prefix of ours (§1.2).
    const theirs = alg === "md5" ? ready.prefixMd5 : ready.prefixHash;
    if (offered > 0 && offered <= size && theirs !== undefined && opts.resume !== false) {
      const prefixHash = hash;
      const read = await conn.localWork(() => hashPrefix(file, offered, prefixHash, opts.signal));
      abort.throwIfAborted();
      if (read === offered && (await prefixHash.peek()) === theirs) {
        start = offered;
      } else {
        prefixHash.close();
        hash = transferHash(size, alg);
      }
    }

    const progress = new ProgressReporter(size, opts.onProgress);
    progress.begin(start);
    if (!conn.sendFrame({ cmd: "data", id, offset: start, size: size - start })) await conn.drained();
    const running = hash;
    let left = size - start;
    const sent = await readRange(file, start, size, (chunk) => {
      left -= chunk.length;
      // The server gave up on this put mid-way (say its disk filled): finishing the frame only keeps
      // the stream in step, which is not worth sending a great deal more for.
      if (replies.failure && left > ABANDON_AFTER_REFUSAL) throw replies.failure;
      const hashing = running.update(chunk);
      const writing = conn.writeOut(chunk, (n) => progress.add(n));
      // readRange reuses the chunk's buffer once this settles: the socket must be done with it.
      return hashing ? writing : Promise.all([running.whenWritable(), writing]).then(() => undefined);
    });
    abort.throwIfAborted();
    if (sent !== size - start) throw shrankError(localPath);
    // Bytes read across a change of the file must not go out with an md5 that vouches for them. The
    // data frame is out and the protocol has no frame to call a put off, so no trailer is sent at
    // all: ECHANGED breaks the connection below (`owing`), and the server keeps the bytes only as a
    // staging partial, never under the target name (PROTOCOL.md §4 put).
    await assertUnchanged(file, opened, localPath);
    const hex = await running.digest();
    if (!conn.sendFrame({ cmd: "end", id, alg, ...hashFields(alg, hex) })) await conn.drained();
    owing = false;
    turn.release();

    const done = await replies.done;
    verify(done, size, alg, hex);
    return progress.result({
      local: localPath,
      remote: remotePath,
      size,
      alg,
      hash: hex,
      resumedFrom: start,
      mtime: mtimeOf(opened),
    });
  } catch (err) {
    if (owing) conn.fail(connectionLost(`the connection was closed after a failed upload: ${describe(err)}`));
    throw err;
  } finally {
    hash?.close();
    await file.close();
  }
}

function verify(done: DoneReply, size: number, alg: HashAlgorithm, hex: string): void {
  const stored = algOf(done) === alg ? hashOf(done) : undefined;
  if (done.size !== size || stored !== hex) {
    throw new FerryError(
      "ECHECKSUM",
      `the server stored ${done.size} bytes with ${algOf(done)} ${hashOf(done)}, sent ${size} bytes with ${alg} ${hex}`,
      {
        expected: hex,
        actual: stored,
        size,
        serverSize: done.size,
      },
    );
  }
}

/** The replies of one put: `ready` first for a handshake put, then `done` (or an error at any point). */
class PutReplies implements RequestHandler {
  readonly ready: Promise<ReadyReply>;
  readonly done: Promise<DoneReply>;
  private resolveReady!: (r: ReadyReply) => void;
  private rejectReady!: (e: FerryError) => void;
  private resolveDone!: (r: DoneReply) => void;
  private rejectDone!: (e: FerryError) => void;
  private gotReady = false;
  /** Set once the put has failed (an error reply or a broken connection). */
  failure: FerryError | null = null;

  constructor(private readonly handshake: boolean) {
    this.ready = new Promise((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    this.done = new Promise((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    // Either may be left unobserved (a refused put never awaits done); the caller still sees the error.
    this.ready.catch(() => {});
    this.done.catch(() => {});
  }

  onFrame(msg: ServerFrame): boolean {
    if ("ok" in msg) {
      if (!msg.ok) {
        this.onFail(errorFromReply(msg));
        return true;
      }
      if (msg.type === "ready" && this.handshake && !this.gotReady) {
        this.gotReady = true;
        this.resolveReady(msg);
        return false;
      }
      if (msg.type === "done" && (!this.handshake || this.gotReady)) {
        this.resolveDone(msg);
        return true;
      }
    }
    throw unexpected(msg, this.handshake && !this.gotReady ? "ready" : "done");
  }

  onFail(err: FerryError): void {
    this.failure ??= err;
    this.rejectReady(err);
    this.rejectDone(err);
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
