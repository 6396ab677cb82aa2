import { createHash, type Hash } from "node:crypto";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { FerryError } from "@ferry/protocol";
import { MultipartUpload, metadataOf } from "./multipart-upload.js";
import { s3Error, s3ErrorName } from "./s3-errors.js";
import type { S3Place } from "./s3-place.js";

export interface S3UploadTarget {
  /** The normalized served path (names joined by "/"): with the size, what identifies a partial. */
  path: string;
  /** The path as the client sent it, for messages. */
  clientPath: string;
  key: string;
  size: number;
  /** The client's md5, when the put gave it up front. */
  md5?: string;
  mtime?: number;
}

/**
 * One put on its way into the store. The caller writes the payload, compares `digest()` with the
 * client's md5, then either commits (the object appears whole under its key, with the md5 in its
 * metadata) or aborts (nothing appears, nothing is kept); `suspend` keeps what can be resumed when
 * the connection is lost.
 */
export interface S3Upload {
  /** Bytes the store already holds from an interrupted put of the same path and size. */
  readonly offset: number;
  /** md5 of those bytes (when offset > 0). */
  readonly prefixMd5: string | undefined;
  /** The client starts over from byte 0 instead of continuing. */
  restart(): Promise<void>;
  write(chunk: Buffer): Promise<void>;
  /** md5 of every byte (the held prefix included); call once the last byte is written. */
  digest(): Promise<string>;
  /** Every part is in the store (still invisible); after the caller compared the md5. */
  stage(): Promise<void>;
  /** Makes the object visible. EEXIST if `overwrite` is false and the key appeared meanwhile. */
  commit(options: { overwrite: boolean }): Promise<void>;
  abort(): Promise<void>;
  suspend(): Promise<void>;
}

/**
 * An upload for `target`: a file of up to one part size is buffered whole (its memory taken from
 * the place's budget) and stored with one PutObject; a bigger one becomes a multipart upload, which
 * with `resume` continues the interrupted upload of the same path and size, if any.
 */
export async function beginS3Upload(
  place: S3Place,
  target: S3UploadTarget,
  resume: boolean,
): Promise<S3Upload> {
  if (target.size <= place.partSize) return SmallUpload.begin(place, target);
  return MultipartUpload.begin(place, target, resume);
}

/**
 * A file that fits in one part: held in memory (its size taken from the place's budget at the first
 * byte, so a client that stalls before its payload holds none), hashed, and stored with one
 * PutObject on commit. The chunks are kept as handed over (the caller does not change them), so a
 * small put's one whole-file write costs no copy.
 */
class SmallUpload implements S3Upload {
  readonly offset = 0;
  readonly prefixMd5 = undefined;
  private chunks: Buffer[] = [];
  private filled = 0;
  private hash: Hash = createHash("md5");
  private md5: string | null = null;
  private held = false;
  private ended = false;

  private constructor(
    private readonly place: S3Place,
    private readonly target: S3UploadTarget,
  ) {}

  static async begin(place: S3Place, target: S3UploadTarget): Promise<SmallUpload> {
    return new SmallUpload(place, target);
  }

  async restart(): Promise<void> {
    this.chunks = [];
    this.filled = 0;
    this.hash = createHash("md5");
    this.md5 = null;
  }

  async write(chunk: Buffer): Promise<void> {
    if (this.filled + chunk.length > this.target.size)
      throw new FerryError(
        "ESIZE",
        `more than ${this.target.size} bytes for ${JSON.stringify(this.target.clientPath)}`,
      );
    if (this.ended) throw new FerryError("EINTERNAL", "write after the upload ended");
    if (!this.held) {
      await this.place.uploadMemory.take(this.target.size);
      this.held = true;
      // Ended while waiting for memory (the connection went): give it straight back.
      if (this.ended) {
        this.held = false;
        this.place.uploadMemory.give(this.target.size);
        throw new FerryError("EINTERNAL", "write after the upload ended");
      }
    }
    this.chunks.push(chunk);
    this.hash.update(chunk);
    this.filled += chunk.length;
  }

  async digest(): Promise<string> {
    this.md5 ??= this.hash.digest("hex");
    return this.md5;
  }

  async stage(): Promise<void> {}

  async commit(options: { overwrite: boolean }): Promise<void> {
    const { place, target } = this;
    const md5 = await this.digest();
    const body = this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks);
    try {
      await place.client.send(
        new PutObjectCommand({
          Bucket: place.bucket,
          Key: target.key,
          Body: body,
          ContentLength: body.length,
          // The store checks the bytes once more on its side (BadDigest → ECHECKSUM).
          ContentMD5: Buffer.from(md5, "hex").toString("base64"),
          Metadata: metadataOf(md5, target.mtime ?? null),
          ...(options.overwrite ? {} : { IfNoneMatch: "*" }),
        }),
      );
    } catch (err) {
      if (s3ErrorName(err) === "PreconditionFailed")
        throw new FerryError(
          "EEXIST",
          `already exists: ${JSON.stringify(target.clientPath)}`,
          {},
          { cause: err },
        );
      throw s3Error(err, target.clientPath);
    } finally {
      this.end();
    }
  }

  async abort(): Promise<void> {
    this.end();
  }

  async suspend(): Promise<void> {
    this.end();
  }

  private end(): void {
    this.ended = true;
    this.chunks = [];
    if (!this.held) return;
    this.held = false;
    this.place.uploadMemory.give(this.target.size);
  }
}
