import { createHash } from "node:crypto";
import type { HashAlgorithm } from "@ferry/protocol";
import type { LentChunk, ReadHandle } from "../storage.js";
import type { Md5Memo } from "./md5-memo.js";
import type { S3Place } from "./s3-place.js";
import { readObjectRange } from "./s3-read.js";
import type { S3File } from "./s3-stat.js";

const NO_RELEASE = () => {};

/**
 * One version of one object, for get and sum: every read is a ranged GetObject pinned to the
 * ETag that was stat'ed (If-Match), so bytes of two versions are never mixed: a replaced object
 * is ECHANGED at the read that would have crossed it. The body's chunks are fresh buffers, lent
 * with a no-op release.
 */
export class S3ReadHandle implements ReadHandle {
  readonly size: number;
  readonly mtime: number;
  readonly version: string;
  /** The object's md5 (its metadata, or hashed before): the only algorithm this store keeps. */
  readonly md5: string | undefined;

  constructor(
    private readonly place: S3Place,
    private readonly file: S3File,
    private readonly memo: Md5Memo,
  ) {
    this.size = file.size;
    this.mtime = file.mtime;
    this.version = file.etag;
    this.md5 = file.md5 ?? memo.get(file.key, file.etag);
  }

  async readAll(): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of readObjectRange(this.place, this.file, 0, this.size)) chunks.push(chunk);
    return Buffer.concat(chunks, this.size);
  }

  async *read(start: number, end: number): AsyncGenerator<LentChunk> {
    for await (const bytes of readObjectRange(this.place, this.file, start, end))
      yield { bytes, release: NO_RELEASE };
  }

  /** Every read was pinned to {@link version} by If-Match, so what was read is that version. */
  async assertUnchanged(): Promise<void> {}

  knownHash(alg: HashAlgorithm): string | undefined {
    return alg === "md5" ? this.md5 : undefined;
  }

  remember(alg: HashAlgorithm, hash: string): void {
    if (alg === "md5") this.memo.set(this.file.key, this.file.etag, hash);
  }

  async close(): Promise<void> {}

  /** The md5 of the whole object, hashed as it streams from the store. */
  async hashAll(): Promise<string> {
    const hash = createHash("md5");
    for await (const chunk of readObjectRange(this.place, this.file, 0, this.size)) hash.update(chunk);
    return hash.digest("hex");
  }
}
