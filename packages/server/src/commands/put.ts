import { constants } from "node:fs";
import { type FileHandle, lstat, open } from "node:fs/promises";
import { type DataFrame, FerryError, type Frame, type PutRequest, parseClientFrame } from "@ferry/protocol";
import type { SessionIO } from "../context.js";
import { fsError } from "../fs-errors.js";
import { CoalescingWriter } from "../storage/coalescing-writer.js";
import { assertSpace, commitFile, syncDir } from "../storage/commit.js";
import { createRunningHash, type RunningHash } from "../storage/hasher.js";
import { readRange } from "../storage/read-range.js";
import type { UploadTicket } from "../storage/staging.js";
import { type Admitted, admitPut } from "./put-admission.js";

/** What happens to the staging file when the put ends. */
type Fate = "discard" | "keep" | "committed";

/** Errors that mean the client went away (or was cut off): what arrived is kept for a resume. */
function isConnectionLoss(err: unknown): boolean {
  return err instanceof FerryError && (err.code === "ECONNLOST" || err.code === "ETIMEDOUT");
}

/**
 * Upload: admission, then the payload streamed into a private staging file while hashed, then
 * verification, fsync and an atomic commit under the real name. See PROTOCOL.md §4 put and §6.
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
  try {
    const admitted = await admitPut(req, io);
    const upload = new Upload(req, io, admitted);
    await upload.run(
      (n) => {
        moved += n;
      },
      (o) => {
        offset = o;
      },
    );
    log("ok");
  } catch (err) {
    log(err instanceof FerryError ? err.code : "EINTERNAL");
    throw err;
  }
}

class Upload {
  private file = "";
  private fh: FileHandle | null = null;
  private hash: RunningHash | null = null;
  private fate: Fate = "discard";
  private ticket: UploadTicket | null = null;

  constructor(
    private readonly req: PutRequest,
    private readonly io: SessionIO,
    private readonly admitted: Admitted,
  ) {}

  async run(onBytes: (n: number) => void, onOffset: (offset: number) => void): Promise<void> {
    const { req, io } = this;
    const { staging, options, sandbox } = io.server;
    const claim = req.handshake ? await staging.claim(this.admitted.target.rel, req.size, req.md5) : null;
    const have = claim?.bytes ?? 0;
    this.ticket = staging.track(this.admitted.target.rel, req.size);
    try {
      if (claim) {
        this.file = claim.file;
        this.fate = "keep";
        this.fh = await open(claim.file, constants.O_RDWR | constants.O_NOFOLLOW);
      }
      await assertSpace(sandbox.root, req.size - have);
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
      this.hash = createRunningHash(req.size);
      if (req.handshake) {
        const ready: Record<string, unknown> = { ok: true, id: req.id, type: "ready", offset: have };
        if (have > 0) {
          for await (const chunk of readRange(fh, 0, have)) await this.hash.update(chunk);
          ready.prefixMd5 = await this.hash.peek();
        }
        await io.send(ready);
      }
      const data = await this.expectData(have);
      if (data.header.offset === 0 && have > 0) {
        await fh.truncate(0);
        this.hash.close();
        this.hash = createRunningHash(req.size);
      }
      onOffset(data.header.offset);
      await this.receive(fh, data.frame, data.header.offset, onBytes);
      const expected = req.md5 ?? (await this.expectTrailer());
      const actual = await this.hash.digest();
      if (actual !== expected) {
        this.fate = "discard";
        throw new FerryError("ECHECKSUM", `md5 mismatch: sent ${expected}, received ${actual}`, {
          expected,
          actual,
        });
      }
      if (options.fsync) await fh.sync();
      await this.closeFile();
      try {
        await commitFile(this.file, this.admitted.dest, req.overwrite === true);
      } catch (err) {
        throw fsError(err, req.path);
      }
      this.fate = "committed";
      await staging.committed(this.file);
      if (options.fsync) await syncDir(this.admitted.dir);
      const st = await lstat(this.admitted.dest);
      io.server.checksums.set(this.admitted.dest, st, actual);
      await io.send({ ok: true, id: req.id, type: "done", size: req.size, md5: actual, alg: "md5" });
    } catch (err) {
      if (isConnectionLoss(err)) this.ticket?.lost();
      throw err;
    } finally {
      await this.settle().finally(() => this.ticket?.done());
    }
  }

  /** The next frame must be this put's data frame, at offset 0 or at the offered resume point. */
  private async expectData(have: number): Promise<{ frame: Frame; header: DataFrame }> {
    const { req } = this;
    const frame = await this.next();
    const parsed = parseClientFrame(frame.header);
    if (!parsed.ok || parsed.value.cmd !== "data" || parsed.value.id !== req.id) {
      this.giveBack(frame, parsed);
      throw new FerryError("EPROTO", `expected the data frame of put ${req.id}`);
    }
    const header = parsed.value;
    this.fate = "discard";
    if (header.offset !== 0 && header.offset !== have) {
      throw new FerryError("ESIZE", `data offset ${header.offset} is neither 0 nor the offered ${have}`);
    }
    if (header.size !== req.size - header.offset) {
      throw new FerryError(
        "ESIZE",
        `data frame of ${header.size} bytes from offset ${header.offset}; the file has ${req.size}`,
        {
          expected: req.size - header.offset,
          actual: header.size,
        },
      );
    }
    return { frame, header };
  }

  /** The `end` trailer of a put sent without an md5 up front. */
  private async expectTrailer(): Promise<string> {
    this.fate = "keep"; // every byte is here; losing the connection now still leaves a resumable partial
    const frame = await this.next();
    const parsed = parseClientFrame(frame.header);
    if (!parsed.ok || parsed.value.cmd !== "end" || parsed.value.id !== this.req.id) {
      this.fate = "discard";
      this.giveBack(frame, parsed);
      throw new FerryError("EPROTO", `expected the end frame of put ${this.req.id}`);
    }
    this.fate = "discard";
    return parsed.value.md5;
  }

  private async receive(
    fh: FileHandle,
    frame: Frame,
    start: number,
    onBytes: (n: number) => void,
  ): Promise<void> {
    const hash = this.hash as RunningHash;
    const writer = new CoalescingWriter(fh, start, hash);
    try {
      for await (const chunk of frame.payload) {
        await writer.push(chunk);
        onBytes(chunk.length);
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
    }
  }

  private async next(): Promise<Frame> {
    const frame = await this.io.nextFrame();
    if (!frame) throw new FerryError("ECONNLOST", "the connection closed in the middle of a put");
    return frame;
  }

  /** A request that arrived where the payload should be is handled as a request of its own. */
  private giveBack(frame: Frame, parsed: ReturnType<typeof parseClientFrame>): void {
    const cmd = parsed.ok ? parsed.value.cmd : undefined;
    if (cmd !== "data" && cmd !== "end") this.io.unread(frame);
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
    const { staging } = this.io.server;
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
