import {
  closeSync,
  constants,
  fdatasync as fdatasyncCb,
  fstatSync,
  futimesSync,
  open as openCb,
  openSync,
  type Stats,
  unlinkSync,
  write as writeCb,
  writeSync,
} from "node:fs";
import { type FileHandle, lstat, open, unlink } from "node:fs/promises";
import { promisify } from "node:util";
import { createDigest, FerryError, type RunningHash, utimesSeconds } from "@ferry/protocol";
import { fsError } from "../../fs-errors.js";
import { transferHash } from "../hasher.js";
import type { Upload, UploadSpec } from "../storage.js";
import type { WriteBudget } from "../write-budget.js";
import type { ChecksumCache } from "./checksums.js";
import { CoalescingWriter } from "./coalescing-writer.js";
import type { DirRef } from "./dir-handles.js";
import type { Reservation } from "./free-space.js";
import { hashFile } from "./hash-file.js";
import { partialMeta, type Staging, type UploadTicket, WRITE_NEW } from "./staging.js";
import { SYNC_IO_MAX } from "./sync-io.js";

const openFd = promisify(openCb);
const fdatasync = promisify(fdatasyncCb);
const writeFd = (fd: number, buf: Buffer, off: number, len: number, pos: number) =>
  new Promise<number>((resolve, reject) =>
    writeCb(fd, buf, off, len, pos, (err, n) => (err ? reject(err) : resolve(n))),
  );

/** Where an admitted upload goes: its directory held open, the name in it, what the name holds now. */
export interface UploadTarget {
  /** The directory that will hold the file, held until the upload ends. */
  readonly dir: DirRef;
  /** The name in `dir` the file will be committed to (through the directory's handle). */
  readonly dest: string;
  /** Names of the target below the root, links followed ("/"-joined): the checksum cache's key. */
  readonly destReal: string;
  /** What the name held at admission (null: nothing): an overwrite gives it back to the quota. */
  readonly existing: Stats | null;
}

/** What a local upload needs of its storage. */
export interface UploadPlace {
  readonly staging: Staging;
  readonly checksums: ChecksumCache;
  readonly writeBudget: WriteBudget;
  readonly fsync: boolean;
  readonly hashThread: boolean;
  /** Puts a staged file under its name and counts it (LocalStorage.commitStaged). */
  commit(
    staged: string,
    target: UploadTarget,
    opts: { overwrite: boolean; size: number; reservation: Reservation; client: string },
  ): Promise<"moved" | "linked">;
}

/** A partial of an earlier upload, claimed by this one: its staging file and its bytes. */
export interface Claimed {
  readonly file: string;
  readonly bytes: number;
}

/**
 * An upload into the local tree. Two roads, chosen by how the bytes come:
 *
 * - Streamed (the first write is not the whole file, or a partial was claimed): a staging file with
 *   a note beside it (so a server killed mid-upload can offer it for resume after a restart), the
 *   bytes gathered into 1 MiB writes while hashed (CoalescingWriter), fsync, fstat, close.
 * - Whole (the first write is the whole file, as a small pipelined put gives it): the buffer is kept
 *   and hashed in one call; `stage` writes it with one write to a bare staging name (no note: it is
 *   committed or removed right away), its mtime set and fstat taken inline on our own descriptor
 *   (a few µs, where a thread-pool hand-off costs 100 µs and more on the bench VMs). Up to
 *   SYNC_IO_MAX the open, the write, the commit and the unlink of the staging name run inline too;
 *   fdatasync never does. The fsyncs of a burst's stages overlap, as do bigger files' writes.
 *
 * Either way the commit is a rename (or a link when nothing may be replaced) of the staging file,
 * and nothing is under the name before it.
 */
export class LocalUpload implements Upload {
  private file: string | null;
  private fh: FileHandle | null = null;
  private have: number;
  private written = 0;
  private whole: Buffer | null = null;
  private hash: RunningHash | null = null;
  private prefixHashed = false;
  private writer: CoalescingWriter | null = null;
  private budget: { size: number; release: () => void } | null = null;
  /** The hash of the whole file in the spec's alg, once digested. */
  private hex: string | null = null;
  private st: Stats | null = null;
  private how: "moved" | "linked" | null = null;
  private commitFailed = false;
  /** What follows a commit (the staging name dropped, the directory synced), started by the commit. */
  private settling: Promise<unknown> | null = null;
  private synced = false;
  private ended = false;

  constructor(
    private readonly place: UploadPlace,
    private readonly spec: UploadSpec,
    private readonly target: UploadTarget,
    private readonly ticket: UploadTicket,
    private readonly reservation: Reservation,
    claimed: Claimed | null,
    fh: FileHandle | null,
  ) {
    this.file = claimed?.file ?? null;
    this.have = claimed?.bytes ?? 0;
    this.fh = fh;
  }

  get received(): number {
    return this.have;
  }

  async prefixHash(): Promise<string> {
    return (await this.runningHash()).peek();
  }

  async restart(): Promise<void> {
    if (this.have === 0) return;
    try {
      await this.fh?.truncate(0);
    } catch (err) {
      throw fsError(err, this.spec.path.client);
    }
    this.hash?.close();
    this.hash = null;
    this.prefixHashed = false;
    this.have = 0;
  }

  async write(chunk: Buffer): Promise<void> {
    const { size, path } = this.spec;
    if (this.hex !== null || this.have + this.written + chunk.length > size) {
      throw new FerryError("ESIZE", `payload over the declared size of ${size} bytes`);
    }
    if (chunk.length === 0) return;
    if (this.have === 0 && this.written === 0 && this.file === null && chunk.length === size) {
      this.whole = chunk;
      this.written = size;
      return;
    }
    try {
      const writer = await this.streamWriter();
      await writer.push(chunk);
    } catch (err) {
      throw fsError(err, path.client);
    }
    this.written += chunk.length;
    this.reservation.wrote(chunk.length);
  }

  async digest(): Promise<string> {
    if (this.hex !== null) return this.hex;
    const { size, path } = this.spec;
    const got = this.have + this.written;
    if (got !== size) {
      throw new FerryError("ESIZE", `received ${got} of ${size} bytes`, { expected: size, actual: got });
    }
    if (this.fh === null) {
      // Every byte came in one write (or there are none): the short road.
      this.whole ??= Buffer.alloc(0);
      const whole = this.whole;
      this.hex = (await createDigest(this.spec.alg)).update(whole).digest();
      return this.hex;
    }
    const hash = await this.runningHash();
    try {
      await this.writer?.flush();
    } catch (err) {
      throw fsError(err, path.client);
    }
    this.hex = await hash.digest();
    this.releaseBudget();
    return this.hex;
  }

  async stage(): Promise<void> {
    if (this.hex === null) throw new FerryError("EINTERNAL", "an upload is staged after its digest");
    const mtime = this.spec.mtime;
    try {
      if (this.whole) {
        await this.stageWhole(this.whole, mtime);
        return;
      }
      const fh = this.fh as FileHandle;
      // The mtime goes on before the fsync and the rename: the file has it from its first moment
      // under the name, and the stat below (the checksum cache's key) sees it.
      if (mtime !== undefined) await fh.utimes(utimesSeconds(Date.now()), utimesSeconds(mtime));
      if (this.place.fsync) await fh.sync();
      this.st = await fh.stat();
      this.fh = null;
      await fh.close();
    } catch (err) {
      throw fsError(err, this.spec.path.client);
    }
  }

  async commit(): Promise<void> {
    if (this.st === null || this.file === null) {
      throw new FerryError("EINTERNAL", "an upload is committed before it is staged");
    }
    try {
      this.how = await this.place.commit(this.file, this.target, {
        overwrite: this.spec.overwrite,
        size: this.spec.size,
        reservation: this.reservation,
        client: this.spec.path.client,
      });
    } catch (err) {
      this.commitFailed = true;
      throw err;
    }
    // Started now, not when the answer's turn comes (the answers of a pipeline go out one after
    // another): the directory syncs of a burst then overlap and are shared (groupSync), and `done`
    // still waits for a sync that started after this commit.
    this.settling = Promise.all([this.dropStagingName(), this.place.fsync ? this.target.dir.sync() : null]);
    this.settling.catch(() => {}); // observed by sync() or abort()
  }

  async sync(): Promise<void> {
    this.synced = true;
    try {
      await (this.settling ??
        Promise.all([this.dropStagingName(), this.place.fsync ? this.target.dir.sync() : null]));
    } catch (err) {
      throw fsError(err, this.spec.path.client);
    }
    this.place.checksums.set(this.target.destReal, this.st as Stats, this.spec.alg, this.hex as string);
    this.end();
  }

  async abort(keep: boolean): Promise<void> {
    if (this.ended) return;
    // Before any await: a claim arriving now must wait for the partial.
    if (keep && this.how === null) this.ticket.lost();
    try {
      if (this.how === null) await this.settle(keep && !this.commitFailed);
      else if (!this.synced) await (this.settling ?? this.dropStagingName());
    } catch {
      // abort never rejects: what could not be kept is removed by the stale sweep.
    } finally {
      this.end();
    }
  }

  /** An upload that was not committed: kept as a resumable partial, or removed. */
  private async settle(keep: boolean): Promise<void> {
    const { staging } = this.place;
    const meta = partialMeta(this.spec.path.rel, this.spec);
    this.hash?.close();
    if (this.whole) {
      // A bare staged file never becomes a partial: the bytes in hand do, in a file of their own.
      if (this.file !== null) await unlink(this.file).catch(() => {});
      if (keep) await staging.keepBytes(meta, this.whole);
      return;
    }
    const file = this.file;
    if (file === null) return;
    // Keep what arrived: flush it, and only call it resumable if it is all on disk.
    let resumable = keep;
    if (this.writer && keep) {
      resumable = await this.writer.flush().then(
        () => true,
        () => false,
      );
    }
    const fh = this.fh;
    this.fh = null;
    await fh?.close().catch(() => {});
    const size = await lstat(file).then(
      (st) => st.size,
      () => 0,
    );
    if (resumable && size > 0) await staging.keep(file, meta).catch(() => staging.discard(file));
    else await staging.discard(file);
  }

  /** After the commit: a linked staging name goes, and the note of a streamed upload. */
  private async dropStagingName(): Promise<void> {
    const file = this.file as string;
    if (this.how === "linked" && this.whole && this.whole.length <= SYNC_IO_MAX) {
      // Inline like the rest of a small put (SYNC_IO_MAX); a bare staging file has no note.
      try {
        unlinkSync(file);
      } catch {
        // left to the stale sweep, as below
      }
      return;
    }
    await Promise.all([
      this.how === "linked" ? unlink(file).catch(() => {}) : null,
      // A bare staging file (the whole road) has no note to drop.
      this.whole ? null : this.place.staging.committed(file),
    ]);
  }

  /** Every road out ends here once: the claim tracker, the reservation, the directory. */
  private end(): void {
    if (this.ended) return;
    this.ended = true;
    this.hash?.close();
    this.releaseBudget();
    this.ticket.done();
    this.reservation.release(); // a no-op after the commit
    this.target.dir.release();
  }

  private releaseBudget(): void {
    this.budget?.release();
    this.budget = null;
  }

  /** The running hash of the streamed road, fed the claimed prefix first. */
  private async runningHash(): Promise<RunningHash> {
    this.hash ??= transferHash(this.spec.size, this.place.hashThread, this.spec.alg);
    if (!this.prefixHashed) {
      this.prefixHashed = true;
      if (this.have > 0) {
        await hashFile(this.fh as FileHandle, this.have, this.hash).catch((err) => {
          throw fsError(err, this.spec.path.client);
        });
      }
    }
    return this.hash;
  }

  private async streamWriter(): Promise<CoalescingWriter> {
    if (this.writer) return this.writer;
    if (this.fh === null) {
      const { staging } = this.place;
      const created = await staging.create(partialMeta(this.spec.path.rel, this.spec));
      this.file = created.file;
      this.fh = created.fh;
    }
    const hash = await this.runningHash();
    this.budget = this.place.writeBudget.acquire();
    const start = this.have + this.written;
    this.writer = new CoalescingWriter(this.fh, start, hash, this.spec.size - start, this.budget.size);
    return this.writer;
  }

  /**
   * Writes the whole file to a fresh staging name: no one can see it, so stages of several puts may
   * overlap. With fsync the data is flushed here, before the commit makes the name point at it.
   */
  private async stageWhole(bytes: Buffer, mtime: number | undefined): Promise<void> {
    const { staging } = this.place;
    const file = staging.bareName({ path: this.spec.path.rel, size: this.spec.size });
    // A bare descriptor rather than a FileHandle: fstat and close of our own descriptor touch no
    // disk, so they run inline; so do open and write of a small file (SYNC_IO_MAX). fsync and the
    // writes of a bigger file stay off the main thread.
    const inline = bytes.length <= SYNC_IO_MAX;
    const fd = inline ? openSync(file, WRITE_NEW, 0o666) : await openFd(file, WRITE_NEW, 0o666);
    this.file = file;
    try {
      let done = 0;
      while (done < bytes.length) {
        done += inline
          ? writeSync(fd, bytes, done, bytes.length - done, done)
          : await writeFd(fd, bytes, done, bytes.length - done, done);
      }
      // Set before the commit, so the name never shows another mtime; inline like the fstat below.
      if (mtime !== undefined) futimesSync(fd, utimesSeconds(Date.now()), utimesSeconds(mtime));
      if (this.place.fsync) await fdatasync(fd);
      // The staged inode is what the commit puts under the name: its identity keys the checksum cache.
      this.st = fstatSync(fd);
    } finally {
      closeSync(fd);
    }
  }
}

/** Opens a claimed partial for writing more of it (never through a link swapped in). */
export async function openClaimed(file: string): Promise<FileHandle> {
  return open(file, constants.O_RDWR | constants.O_NOFOLLOW);
}
