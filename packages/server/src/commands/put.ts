import { constants } from "node:fs";
import { type FileHandle, lstat, open, unlink } from "node:fs/promises";
import type { RunningHash } from "@ferry/protocol";
import { FerryError, type Frame, type PutRequest, utimesSeconds } from "@ferry/protocol";
import type { SessionIO } from "../context.js";
import { fsError } from "../fs-errors.js";
import { CoalescingWriter } from "../storage/coalescing-writer.js";
import type { Reservation } from "../storage/free-space.js";
import { hashChunk, transferHash } from "../storage/hasher.js";
import { readRange } from "../storage/read-range.js";
import type { UploadTicket } from "../storage/staging.js";
import { type Admitted, admitPut } from "./put-admission.js";
import { checksumMismatch, expectData, expectTrailer, isConnectionLoss } from "./put-frames.js";

/** What happens to the staging file when the put ends. */
type Fate = "discard" | "keep" | "committed";

/**
 * Upload: admission, then the payload streamed into a private staging file while hashed, then
 * verification, fsync and an atomic commit under the real name. See PROTOCOL.md §4 put and §6.
 * Small streamed puts take a shorter road through the session's pipeline (put-small.ts).
 */
export async function put(req: PutRequest, io: SessionIO): Promise<void> {
  const started = performance.now();
  let moved = 0;
  let offset = 0;
  const log = (result: string) =>
    io.transfer({
      cmd: "put",
      path: req.path,
      bytes: moved,
      size: req.size,
      offset,
      seconds: (performance.now() - started) / 1000,
      result,
    });
  const onBytes = (n: number) => {
    moved += n;
  };
  let admitted: Admitted | null = null;
  try {
    admitted = await admitPut(req, io);
    await new Upload(req, io, admitted).run(onBytes, (o) => {
      offset = o;
    });
    log("ok");
  } catch (err) {
    log(err instanceof FerryError ? err.code : "EINTERNAL");
    throw err;
  } finally {
    admitted?.dir.release();
  }
}

class Upload {
  private file = "";
  private fh: FileHandle | null = null;
  private hash: RunningHash | null = null;
  private fate: Fate = "discard";
  private ticket: UploadTicket | null = null;
  private reservation: Reservation | null = null;

  constructor(
    private readonly req: PutRequest,
    private readonly io: SessionIO,
    private readonly admitted: Admitted,
  ) {}

  async run(onBytes: (n: number) => void, onOffset: (offset: number) => void): Promise<void> {
    const { req, io } = this;
    const { options } = io.server;
    const { staging } = io.volume;
    let claim = req.handshake ? await staging.claim(this.admitted.target.rel, req.size, req.md5) : null;
    if (!claim && req.handshake && req.resumeTarget && req.overwrite) claim = await this.targetAsPartial();
    const have = claim?.bytes ?? 0;
    this.ticket = staging.track(this.admitted.target.rel, req.size);
    try {
      if (claim) {
        this.file = claim.file;
        this.fate = "keep";
        this.fh = await open(claim.file, constants.O_RDWR | constants.O_NOFOLLOW);
      }
      this.reservation = await io.volume.reserve(
        { size: req.size, staged: have, replaces: this.admitted.existing },
        io.access.quota,
      );
      if (!claim) {
        const created = await staging.create({
          path: this.admitted.target.rel,
          size: req.size,
          md5: req.md5,
        });
        this.file = created.file;
        this.fh = created.fh;
      }
      const fh = this.fh as FileHandle;
      this.hash = transferHash(req.size, options.hashThread);
      if (req.handshake) {
        const ready: Record<string, unknown> = { ok: true, id: req.id, type: "ready", offset: have };
        if (have > 0) {
          for await (const chunk of readRange(fh, 0, have)) await hashChunk(this.hash, chunk);
          ready.prefixMd5 = await this.hash.peek();
        }
        await io.send(ready);
      }
      const data = await this.expectData(have);
      if (data.header.offset === 0 && have > 0) {
        await fh.truncate(0);
        this.hash.close();
        this.hash = transferHash(req.size, options.hashThread);
      }
      onOffset(data.header.offset);
      await this.receive(fh, data.frame, data.header.offset, onBytes);
      const expected = req.md5 ?? (await this.expectTrailer());
      const actual = await this.hash.digest();
      if (actual !== expected) {
        this.fate = "discard";
        throw checksumMismatch(expected, actual);
      }
      // The mtime goes on before the fsync and the rename: the file has it from its first moment
      // under the name, and the stat below (the checksum cache's key) sees it.
      if (req.mtime !== undefined) await fh.utimes(utimesSeconds(Date.now()), utimesSeconds(req.mtime));
      if (options.fsync) await fh.sync();
      const st = await fh.stat();
      await this.closeFile();
      let linked: boolean;
      try {
        const how = await io.volume.commit(this.file, this.admitted.dest, {
          overwrite: req.overwrite === true,
          size: req.size,
          reservation: this.reservation,
        });
        linked = how === "linked";
      } catch (err) {
        throw fsError(err, req.path);
      }
      this.fate = "committed";
      await Promise.all([
        linked ? unlink(this.file).catch(() => {}) : null,
        staging.committed(this.file),
        options.fsync ? this.admitted.dir.sync() : null,
      ]);
      io.volume.checksums.set(this.admitted.destReal, st, actual);
      await io.send({ ok: true, id: req.id, type: "done", size: req.size, md5: actual, alg: "md5" });
    } catch (err) {
      if (isConnectionLoss(err)) this.ticket?.lost();
      throw err;
    } finally {
      await this.settle().finally(() => {
        this.ticket?.done();
        this.reservation?.release(); // every road that did not commit: failed, refused, kept, cut off
      });
    }
  }

  /**
   * `resumeTarget`: a shorter regular file under the target name becomes a staging copy offered like
   * a partial (PROTOCOL.md §6), so the target stays whole until the commit. Null when there is none.
   */
  private async targetAsPartial(): Promise<{ file: string; bytes: number } | null> {
    const { staging } = this.io.volume;
    const src = await open(this.admitted.dest, constants.O_RDONLY | constants.O_NOFOLLOW).catch(() => null);
    if (!src) return null;
    let copy: { file: string; fh: FileHandle } | null = null;
    try {
      const st = await src.stat();
      if (!st.isFile() || st.size === 0 || st.size >= this.req.size) return null;
      copy = await staging.create({ path: this.admitted.target.rel, size: this.req.size, md5: this.req.md5 });
      let at = 0;
      for await (const chunk of readRange(src, 0, st.size)) {
        await copy.fh.write(chunk, 0, chunk.length, at);
        at += chunk.length;
      }
      await copy.fh.close();
      return { file: copy.file, bytes: at };
    } catch (err) {
      if (copy) {
        await copy.fh.close().catch(() => {});
        await staging.discard(copy.file);
      }
      throw fsError(err, this.req.path);
    } finally {
      await src.close().catch(() => {});
    }
  }

  private async expectData(have: number): Promise<Awaited<ReturnType<typeof expectData>>> {
    try {
      const data = await expectData(this.io, this.req, have);
      this.fate = "discard";
      return data;
    } catch (err) {
      if (err instanceof FerryError && err.code === "ESIZE") this.fate = "discard";
      throw err;
    }
  }

  private async expectTrailer(): Promise<string> {
    this.fate = "keep"; // every byte is here; losing the connection now still leaves a resumable partial
    try {
      const md5 = await expectTrailer(this.io, this.req);
      this.fate = "discard";
      return md5;
    } catch (err) {
      if (!isConnectionLoss(err)) this.fate = "discard";
      throw err;
    }
  }

  private async receive(
    fh: FileHandle,
    frame: Frame,
    start: number,
    onBytes: (n: number) => void,
  ): Promise<void> {
    const hash = this.hash as RunningHash;
    const budget = this.io.server.writeBudget.acquire();
    const writer = new CoalescingWriter(fh, start, hash, this.req.size - start, budget.size);
    try {
      for await (const chunk of frame.payload) {
        await writer.push(chunk);
        onBytes(chunk.length);
        this.reservation?.wrote(chunk.length);
      }
      await writer.flush();
    } catch (err) {
      if (!isConnectionLoss(err)) throw fsError(err, this.req.path);
      this.ticket?.lost(); // before any await: a claim arriving now must wait for the partial
      // Keep what arrived: flush it, and only call it resumable if it is all on disk.
      this.fate = await writer.flush().then(
        () => "keep" as const,
        () => "discard" as const,
      );
      throw err;
    } finally {
      budget.release();
    }
  }

  private async closeFile(): Promise<void> {
    const fh = this.fh;
    this.fh = null;
    await fh?.close();
  }

  private async settle(): Promise<void> {
    this.hash?.close();
    await this.closeFile().catch(() => {});
    if (!this.file || this.fate === "committed") return;
    const { staging } = this.io.volume;
    const size = await lstat(this.file).then(
      (st) => st.size,
      () => 0,
    );
    if (this.fate === "keep" && size > 0) {
      const meta = { path: this.admitted.target.rel, size: this.req.size, md5: this.req.md5 };
      await staging.keep(this.file, meta).catch(() => staging.discard(this.file));
    } else {
      await staging.discard(this.file);
    }
  }
}
