import { createHash } from "node:crypto";
import { FerryError } from "@ferry/protocol";
import type { Upload } from "../storage.js";
import type { S3Upload } from "./s3-upload.js";

const EMPTY_MD5 = createHash("md5").digest("hex");

/**
 * The Storage interface's {@link Upload} over an {@link S3Upload}: counts the bytes against the
 * declared size (ESIZE), and maps the interface's life (stage → commit → sync, or abort(keep)) onto
 * the store's (parts in → CompleteMultipartUpload/PutObject, or suspend/abort).
 */
export class S3StorageUpload implements Upload {
  private written: number;
  private state: "open" | "committed" | "ended" = "open";

  constructor(
    private readonly upload: S3Upload,
    private readonly size: number,
    private readonly overwrite: boolean,
    private readonly clientPath: string,
  ) {
    this.written = upload.offset;
  }

  get received(): number {
    return this.state === "open" ? this.upload.offset : 0;
  }

  /** md5 only: the S3 store offers no other algorithm (S3Storage.hashes), so the spec's alg is md5. */
  async prefixHash(): Promise<string> {
    return this.upload.prefixMd5 ?? EMPTY_MD5;
  }

  async restart(): Promise<void> {
    await this.upload.restart();
    this.written = 0;
  }

  async write(chunk: Buffer): Promise<void> {
    if (this.written + chunk.length > this.size)
      throw new FerryError(
        "ESIZE",
        `more than the declared ${this.size} bytes: ${JSON.stringify(this.clientPath)}`,
      );
    this.written += chunk.length;
    await this.upload.write(chunk);
  }

  async digest(): Promise<string> {
    if (this.written !== this.size)
      throw new FerryError(
        "ESIZE",
        `${this.written} of ${this.size} bytes arrived: ${JSON.stringify(this.clientPath)}`,
      );
    return this.upload.digest();
  }

  stage(): Promise<void> {
    return this.upload.stage();
  }

  async commit(): Promise<void> {
    await this.upload.commit({ overwrite: this.overwrite });
    this.state = "committed";
  }

  /** The store acknowledged the object durably before commit resolved. */
  async sync(): Promise<void> {}

  async abort(keep: boolean): Promise<void> {
    if (this.state !== "open") return;
    this.state = "ended";
    await (keep ? this.upload.suspend() : this.upload.abort()).catch(() => {});
  }
}
