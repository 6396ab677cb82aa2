import { fstatSync, type Stats } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { FerryError, type HashAlgorithm, mtimeOf, type RunningHash, sameFileVersion } from "@ferry/protocol";
import { fsError } from "../../fs-errors.js";
import type { LentChunk, ReadHandle } from "../storage.js";
import type { ChecksumCache } from "./checksums.js";
import { hashFile } from "./hash-file.js";
import { lentRange } from "./lent-range.js";
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

/** A regular file of the local tree, open (see openForRead); its stat at open is the version read. */
export class LocalReadHandle implements ReadHandle {
  readonly size: number;
  readonly mtime: number;
  readonly version: string;

  constructor(
    private readonly fh: FileHandle,
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

  async readAll(): Promise<Buffer> {
    const bytes = Buffer.allocUnsafe(this.size);
    let got = 0;
    try {
      while (got < this.size) {
        const { bytesRead } = await this.fh.read(bytes, got, this.size - got, got);
        if (bytesRead === 0) throw new FerryError("ESIZE", "the file shrank while it was being read");
        got += bytesRead;
      }
    } catch (err) {
      throw fsError(err, this.client);
    }
    return bytes;
  }

  /** Feeds the whole file to `hash` through two reused buffers (see hashFile). */
  async hashAll(hash: RunningHash): Promise<void> {
    await hashFile(this.fh, this.size, hash).catch((err) => {
      throw fsError(err, this.client);
    });
  }

  read(start: number, end: number): AsyncIterable<LentChunk> {
    return lentRange(this.fh, start, end);
  }

  async assertUnchanged(): Promise<void> {
    let now: Stats;
    try {
      now = this.size <= INLINE_CHECK_MAX ? fstatSync(this.fh.fd) : await this.fh.stat();
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

  close(): Promise<void> {
    return this.fh.close();
  }
}
