import { createHash } from "node:crypto";
import {
  closeSync,
  fdatasync as fdatasyncCb,
  fstatSync,
  futimesSync,
  open as openCb,
  type Stats,
  write as writeCb,
} from "node:fs";
import { unlink } from "node:fs/promises";
import { promisify } from "node:util";
import { FerryError, type PutRequest, utimesSeconds } from "@ferry/protocol";
import type { SessionIO } from "../context.js";
import { fsError } from "../fs-errors.js";
import type { Reservation } from "../storage/free-space.js";
import { type UploadTicket, WRITE_NEW } from "../storage/staging.js";
import { type Admitted, admitPut } from "./put-admission.js";
import { checksumMismatch, expectData, expectTrailer, isConnectionLoss } from "./put-frames.js";

/**
 * Streamed puts up to this size are gathered in memory (bounded per session by the pipeline's
 * budget) and written with one write: a few filesystem calls instead of a dozen, and the session
 * can stage the next file while this one commits.
 */
export const SMALL_PUT_MAX = 1024 * 1024;

const openFd = promisify(openCb);
const fdatasync = promisify(fdatasyncCb);
const writeFd = (fd: number, buf: Buffer, off: number, len: number, pos: number) =>
  new Promise<number>((resolve, reject) =>
    writeCb(fd, buf, off, len, pos, (err, n) => (err ? reject(err) : resolve(n))),
  );

export function isSmallPut(req: PutRequest): boolean {
  return req.handshake !== true && req.size <= SMALL_PUT_MAX;
}

/** A small put whose bytes are all here and verified, waiting to be staged and committed. */
export interface ReceivedPut {
  readonly req: PutRequest;
  readonly admitted: Admitted;
  readonly bytes: Buffer;
  readonly md5: string;
  readonly ticket: UploadTicket;
  /** Its free space, held until the pipeline commits it or gives up. */
  readonly reservation: Reservation;
}

/** A staged file, flushed when fsync is on, not yet under its real name. */
export interface StagedPut {
  readonly file: string;
  readonly st: Stats;
}

/**
 * Everything of a small put that reads the connection, in request order: admission, the payload into
 * memory, the trailer, the md5 check. A connection lost midway keeps what arrived as a resumable
 * partial, like the big path. On success the caller owns `admitted.dir`, `ticket` and `reservation`.
 */
export async function receiveSmallPut(
  req: PutRequest,
  io: SessionIO,
  onBytes: (n: number) => void,
): Promise<ReceivedPut> {
  const { staging } = io.volume;
  // The target is checked here, before the payload, so a refused put is answered without waiting
  // for its bytes (PROTOCOL.md §4), at the cost of one lstat per file.
  const admitted = await admitPut(req, io);
  const rel = admitted.target.rel;
  let ticket: UploadTicket | null = null;
  let reservation: Reservation | null = null;
  let got = 0;
  const bytes = Buffer.allocUnsafe(req.size);
  try {
    reservation = await io.volume.reserve(
      { size: req.size, staged: 0, replaces: admitted.existing },
      io.access.quota,
    );
    ticket = staging.track(rel, req.size);
    const { frame } = await expectData(io, req, 0);
    for await (const chunk of frame.payload) {
      if (got + chunk.length > bytes.length) throw new FerryError("ESIZE", "payload over the declared size");
      chunk.copy(bytes, got);
      got += chunk.length;
      onBytes(chunk.length);
    }
    const expected = req.md5 ?? (await expectTrailer(io, req));
    const md5 = createHash("md5").update(bytes).digest("hex");
    if (md5 !== expected) throw checksumMismatch(expected, md5);
    return { req, admitted, bytes, md5, ticket, reservation };
  } catch (err) {
    if (ticket && isConnectionLoss(err) && got > 0) {
      ticket.lost();
      const meta = { path: rel, size: req.size, md5: req.md5 };
      await staging.keepBytes(meta, bytes.subarray(0, got)).catch(() => {});
    }
    ticket?.done();
    reservation?.release();
    admitted.dir.release();
    throw err;
  }
}

/**
 * Writes the staging file: no one can see it, so staging of several puts may overlap. With fsync the
 * data is flushed here, before the commit makes the name point at it: a crash never leaves a short
 * file under the real name.
 */
export async function stageSmallPut(put: ReceivedPut, io: SessionIO): Promise<StagedPut> {
  const { options } = io.server;
  const { staging } = io.volume;
  const file = staging.bareName({ path: put.admitted.target.rel, size: put.req.size });
  // A bare descriptor rather than a FileHandle: fstat and close of our own descriptor touch no disk,
  // inline they cost a few µs, through the thread pool a hand-off each (100 µs and more on these
  // VMs), which is what limits a burst of small files. Write and fsync stay off the main thread.
  const fd = await openFd(file, WRITE_NEW, 0o666);
  try {
    let done = 0;
    while (done < put.bytes.length) done += await writeFd(fd, put.bytes, done, put.bytes.length - done, done);
    // Set before the commit, so the name never shows another mtime. Inline like the fstat below: it
    // changes only the inode of our own open file, cheaper than a thread-pool round trip.
    const mtime = put.req.mtime;
    if (mtime !== undefined) futimesSync(fd, utimesSeconds(Date.now()), utimesSeconds(mtime));
    if (options.fsync) await fdatasync(fd);
    // The staged inode is what the commit puts under the name: its identity keys the checksum cache.
    const st = fstatSync(fd);
    return { file, st };
  } catch (err) {
    await unlink(file).catch(() => {});
    throw fsError(err, put.req.path);
  } finally {
    closeSync(fd);
  }
}

/**
 * The visible effect: the staged file under its real name (atomic rename, or link when it must not
 * replace anything), its reservation committed. Commits of one session run in request order; this
 * returns once the name is in place and does nothing else, so the next commit can follow at once.
 */
export async function commitSmallPut(
  put: ReceivedPut,
  staged: StagedPut,
  io: SessionIO,
): Promise<"moved" | "linked"> {
  try {
    return await io.volume.commit(staged.file, put.admitted.dest, {
      overwrite: put.req.overwrite === true,
      size: put.req.size,
      reservation: put.reservation,
    });
  } catch (err) {
    await unlink(staged.file).catch(() => {});
    throw fsError(err, put.req.path);
  }
}

/**
 * After the commit, before `done`: the staging name of a linked file goes, and with fsync the
 * directory is flushed by a sync that started after this commit (one sync covers every commit before
 * it, so a burst into one directory shares them); then the md5 is remembered.
 */
export async function settleSmallPut(
  put: ReceivedPut,
  staged: StagedPut,
  how: "moved" | "linked",
  io: SessionIO,
): Promise<void> {
  try {
    await Promise.all([
      how === "linked" ? unlink(staged.file).catch(() => {}) : null,
      io.server.options.fsync ? put.admitted.dir.sync() : null,
    ]);
  } catch (err) {
    throw fsError(err, put.req.path);
  }
  io.volume.checksums.set(put.admitted.destReal, staged.st, put.md5);
}
