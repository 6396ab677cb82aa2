import { fstatSync, readSync, type Stats } from "node:fs";
import { FerryError, type HashAlgorithm, mtimeOf, type RunningHash, sameFileVersion } from "@ferry/protocol";
import { fsError } from "../../fs-errors.js";
import { hashChunk } from "../hasher.js";
import type { LentChunk, ReadHandle } from "../storage.js";
import type { ChecksumCache } from "./checksums.js";
import { hashFile } from "./hash-file.js";
import { lentRange } from "./lent-range.js";
import { closeOpenFile, type OpenFile } from "./open-read.js";
import type { Resolved } from "./sandbox.js";

/**
 * Files up to this size have their version checked with an inline fstat: a small file's reply
 * waits on the check, and one thread-pool round trip costs more than the fstat of a descriptor
 * already open (100 µs and more on the bench VMs).
 */
const INLINE_CHECK_MAX = 1024 * 1024;

/** What a get or a sum may read: a regular file, named without a trailing `/`. */
export function assertRegularFile(r: Resolved, st: Stats): void {
  const path = r.client;
  if (st.isDirectory()) throw new FerryError("EISDIR", `is a directory: ${JSON.stringify(path)}`);
  if (r.dirOnly) throw new FerryError("ENOTDIR", `not a directory: ${JSON.stringify(path)}`);
  if (!st.isFile()) throw new FerryError("EACCES", `not a regular file: ${JSON.stringify(path)}`);
}

/**
 * A regular file of the local tree, open (see openForRead); its stat at open is the version read.
 * A small one comes as a bare descriptor (see SYNC_IO_MAX) and is read, checked and closed inline.
 */
export class LocalReadHandle implements ReadHandle {
  readonly size: number;
  readonly mtime: number;
  readonly version: string;
  private closed = false;

  constructor(
    private readonly file: OpenFile,
    private readonly st: Stats,
    /** Names of the file below the root, links followed: its checksum-cache key. */
    private readonly real: string,
    private readonly checksums: ChecksumCache,
    private readonly client: string,
  ) {
    this.size = st.size;
    this.mtime = mtimeOf(st);
    this.version = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
  }

  readAll(): Promise<Buffer> {
    return this.readRange(0, this.size);
  }

  /** Feeds the whole file to `hash` through two reused buffers (see hashFile); a small one in one read. */
  async hashAll(hash: RunningHash): Promise<void> {
    const file = this.file;
    if (typeof file === "number") {
      await hashChunk(hash, await this.readAll());
      return;
    }
    await hashFile(file, this.size, hash).catch((err) => {
      throw fsError(err, this.client);
    });
  }

  read(start: number, end: number): AsyncIterable<LentChunk> {
    const file = this.file;
    if (typeof file === "number") return this.readSmall(start, end);
    return lentRange(file, start, end);
  }

  async assertUnchanged(): Promise<void> {
    const file = this.file;
    let now: Stats;
    try {
      if (typeof file === "number") now = fstatSync(file);
      else now = this.size <= INLINE_CHECK_MAX ? fstatSync(file.fd) : await file.stat();
    } catch (err) {
      throw fsError(err, this.client);
    }
    if (!sameFileVersion(this.st, now)) {
      throw new FerryError(
        "ECHANGED",
        `the file changed while it was being sent; try again: ${JSON.stringify(this.client)}`,
        { path: this.client },
      );
    }
  }

  knownHash(alg: HashAlgorithm): string | undefined {
    return this.checksums.get(this.real, this.st, alg);
  }

  remember(alg: HashAlgorithm, hash: string): void {
    this.checksums.set(this.real, this.st, alg, hash);
  }

  async close(): Promise<void> {
    // Once only: a bare descriptor's number may belong to another file after its close.
    if (this.closed) return;
    this.closed = true;
    await closeOpenFile(this.file);
  }

  /** Bytes [start, end) of a small file as one lent block (fresh: nothing to give back). */
  private async *readSmall(start: number, end: number): AsyncGenerator<LentChunk> {
    if (end <= start) return;
    yield { bytes: await this.readRange(start, end), release: () => {} };
  }

  /** Bytes [start, end) into a fresh buffer: inline for a bare descriptor, else through the pool. */
  private async readRange(start: number, end: number): Promise<Buffer> {
    const bytes = Buffer.allocUnsafe(end - start);
    const file = this.file;
    let got = 0;
    try {
      while (got < bytes.length) {
        const at = start + got;
        const want = bytes.length - got;
        const n =
          typeof file === "number"
            ? readSync(file, bytes, got, want, at)
            : (await file.read(bytes, got, want, at)).bytesRead;
        if (n === 0) throw new FerryError("ESIZE", "the file shrank while it was being read");
        got += n;
      }
    } catch (err) {
      throw fsError(err, this.client);
    }
    return bytes;
  }
}
