import { createHash, randomUUID } from "node:crypto";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  ListPartsCommand,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { FerryError } from "@ferry/protocol";
import { ResumableMd5 } from "./resumable-md5.js";
import { partSizeFor, S3_MAX_COPY } from "./s3-config.js";
import { isS3NotFound, s3Error, s3ErrorName } from "./s3-errors.js";
import type { S3Place } from "./s3-place.js";
import { headFile, META_MD5, META_MTIME } from "./s3-stat.js";
import type { S3Upload, S3UploadTarget } from "./s3-upload.js";
import {
  deleteUploadState,
  readUploadState,
  type UploadState,
  uploadId,
  writeUploadState,
} from "./upload-state.js";

interface DonePart {
  etag: string;
  /** The md5 state after this part's last byte. */
  hash: string;
}

/**
 * A file bigger than one part, streamed into a multipart upload: bytes fill a part buffer (taken
 * from the place's upload memory), a full part goes out while the next fills, and at most
 * `partsInFlight` parts are on their way, so one upload holds at most partSize × (partsInFlight + 1).
 * Nothing is visible under the key until `commit`, which the caller makes only after comparing
 * `digest()` with the client's md5; `abort` removes every part.
 *
 * After each part that extends the run of acknowledged parts from 1, the upload's state (see
 * UploadState) is written to the bucket, so if the connection (or this server) dies, a handshake
 * put of the same path and size on any ferryd of the bucket resumes after those parts. The bytes of
 * a part not yet whole are lost with the connection: resume goes in steps of one part.
 *
 * Servers share no lock. A put that takes over an upload marks the state as its own; the put it took
 * over sees that when it next writes state and fails (EBUSY). Whatever the interleaving, an object
 * appears only through CompleteMultipartUpload with the ETags (part md5s) of the parts the completing
 * put hashed itself, so it holds exactly the bytes that put verified, or the store refuses it.
 */
export class MultipartUpload implements S3Upload {
  offset = 0;
  prefixMd5: string | undefined;
  private readonly owner = randomUUID();
  private readonly startedAt = Date.now();
  private readonly id: string;
  private readonly partSize: number;
  private buf: Buffer | null = null;
  private filled = 0;
  private nextPart = 0;
  private readonly done = new Map<number, DonePart>();
  private readonly inFlight = new Map<number, Promise<void>>();
  /** Parts 1..contiguous are acknowledged. */
  private contiguous = 0;
  private persisted = 0;
  private stateWrites: Promise<void> = Promise.resolve();
  private superseded = false;
  private failed: unknown = null;
  private released = false;
  private finalMd5: string | null = null;

  private constructor(
    private readonly place: S3Place,
    private readonly target: S3UploadTarget,
    private state: UploadState,
    private hash: ResumableMd5,
    private readonly release: () => void,
  ) {
    this.id = uploadId(target.path, target.size);
    this.partSize = state.partSize;
  }

  /** A fresh multipart upload, or (with `claim`) the interrupted one of the same path and size. */
  static async begin(place: S3Place, target: S3UploadTarget, claim: boolean): Promise<MultipartUpload> {
    const id = uploadId(target.path, target.size);
    const release = (claim ? await place.claims.claim(id) : null) ?? (() => {});
    try {
      const taken = claim ? await MultipartUpload.takeOver(place, target, id) : null;
      if (taken) {
        const upload = new MultipartUpload(place, target, taken.state, taken.hash, release);
        await upload.resumeFrom(taken.state);
        return upload;
      }
      const created = { md5: target.md5 ?? null, mtime: target.mtime ?? null };
      const out = await place.client.send(
        new CreateMultipartUploadCommand({
          Bucket: place.bucket,
          Key: target.key,
          Metadata: metadataOf(created.md5, created.mtime),
        }),
      );
      const state: UploadState = {
        v: 1,
        path: target.path,
        size: target.size,
        md5: target.md5 ?? null,
        created,
        key: target.key,
        uploadId: out.UploadId as string,
        partSize: partSizeFor(target.size, place.partSize),
        parts: [],
        hash: "",
        owner: "",
        updated: 0,
      };
      return new MultipartUpload(place, target, state, await ResumableMd5.fresh(), release);
    } catch (err) {
      release();
      throw s3Error(err, target.clientPath);
    }
  }

  /**
   * The interrupted upload of this path and size, if there is one this put may continue: same
   * md5 (or either has none), its hash state loads, and the store still holds its parts with the
   * ETags the state lists. Anything else is discarded, and the put starts from byte 0.
   */
  private static async takeOver(
    place: S3Place,
    target: S3UploadTarget,
    id: string,
  ): Promise<{ state: UploadState; hash: ResumableMd5 } | null> {
    const state = await readUploadState(place, id);
    if (!state || state.path !== target.path || state.size !== target.size || state.key !== target.key)
      return null;
    const md5Clash = state.md5 !== null && target.md5 !== undefined && state.md5 !== target.md5;
    const hash = state.parts.length === 0 ? await ResumableMd5.fresh() : await ResumableMd5.load(state.hash);
    if (md5Clash || !hash || !(await partsStillThere(place, state))) {
      await place.client
        .send(
          new AbortMultipartUploadCommand({ Bucket: place.bucket, Key: state.key, UploadId: state.uploadId }),
        )
        .catch(() => {});
      await deleteUploadState(place, id).catch(() => {});
      return null;
    }
    return { state, hash };
  }

  private async resumeFrom(state: UploadState): Promise<void> {
    state.parts.forEach((p, i) => {
      this.done.set(i + 1, { etag: p.etag, hash: i + 1 === state.parts.length ? state.hash : "" });
    });
    this.contiguous = this.nextPart = this.persisted = state.parts.length;
    this.offset = state.parts.length * state.partSize;
    this.prefixMd5 = this.offset > 0 ? await this.hash.peek() : undefined;
    // The claim: from now on the state is this put's, and an older holder stops at its next write.
    this.state = { ...state, owner: this.owner, updated: Date.now() };
    await writeUploadState(this.place, this.id, this.state);
  }

  async restart(): Promise<void> {
    await this.settleInFlight();
    this.done.clear();
    this.contiguous = this.nextPart = this.persisted = 0;
    this.offset = 0;
    this.prefixMd5 = undefined;
    this.finalMd5 = null;
    this.hash = await ResumableMd5.fresh();
  }

  async write(chunk: Buffer): Promise<void> {
    let at = 0;
    while (at < chunk.length) {
      this.throwIfFailed();
      if (!this.buf) {
        await this.place.uploadMemory.take(this.partSize);
        this.buf = Buffer.allocUnsafe(this.partSize);
        this.filled = 0;
      }
      const n = Math.min(this.partSize - this.filled, chunk.length - at);
      const piece = chunk.subarray(at, at + n);
      piece.copy(this.buf, this.filled);
      this.hash.update(piece);
      this.filled += n;
      at += n;
      if (this.filled === this.partSize) await this.ship();
    }
  }

  async digest(): Promise<string> {
    this.finalMd5 ??= this.hash.digest();
    return this.finalMd5;
  }

  async stage(): Promise<void> {
    if (this.filled > 0) await this.ship();
    await this.settleInFlight();
    this.throwIfFailed();
  }

  async commit(options: { overwrite: boolean }): Promise<void> {
    const { place, target } = this;
    try {
      await this.stage();
      if (!options.overwrite && (await headFile(place, target.key)))
        throw new FerryError("EEXIST", `already exists: ${JSON.stringify(target.clientPath)}`);
      const parts = [...Array(this.nextPart).keys()].map((i) => ({
        PartNumber: i + 1,
        ETag: (this.done.get(i + 1) as DonePart).etag,
      }));
      await place.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: place.bucket,
          Key: target.key,
          UploadId: this.state.uploadId,
          MultipartUpload: { Parts: parts },
        }),
      );
      await this.fixMetadata(parts.map((p) => p.ETag));
      await this.dropState();
    } catch (err) {
      if (isS3NotFound(err) || s3ErrorName(err) === "InvalidPart") {
        await this.abort();
        throw new FerryError(
          "EBUSY",
          `another put of ${JSON.stringify(target.clientPath)} took over this upload`,
          {},
          { cause: err },
        );
      }
      throw s3Error(err, target.clientPath);
    } finally {
      this.end();
    }
  }

  async abort(): Promise<void> {
    try {
      this.dropBuffer();
      await this.settleInFlight();
      await this.place.client
        .send(
          new AbortMultipartUploadCommand({
            Bucket: this.place.bucket,
            Key: this.target.key,
            UploadId: this.state.uploadId,
          }),
        )
        .catch((err) => {
          if (!isS3NotFound(err)) throw err;
        });
      await this.dropState();
    } catch (err) {
      throw s3Error(err, this.target.clientPath);
    } finally {
      this.end();
    }
  }

  async suspend(): Promise<void> {
    try {
      this.dropBuffer();
      await this.settleInFlight();
      await this.stateWrites;
      if (this.persisted === 0) await this.abort(); // nothing a later put could resume from
    } finally {
      this.end();
    }
  }

  /** Sends the part in `buf` (full, or the short last one) and waits while too many are on their way. */
  private async ship(): Promise<void> {
    const buf = this.buf as Buffer;
    const body = buf.subarray(0, this.filled);
    const n = ++this.nextPart;
    const hash = this.filled === this.partSize ? this.hash.save() : "";
    this.buf = null;
    this.filled = 0;
    const sent = this.place.client
      .send(
        new UploadPartCommand({
          Bucket: this.place.bucket,
          Key: this.target.key,
          UploadId: this.state.uploadId,
          PartNumber: n,
          Body: body,
          ContentLength: body.length,
        }),
      )
      .then(
        (out) => {
          this.done.set(n, { etag: out.ETag as string, hash });
          this.advance();
        },
        (err) => {
          this.failed ??= err;
        },
      )
      .finally(() => {
        this.inFlight.delete(n);
        this.place.uploadMemory.give(this.partSize);
      });
    this.inFlight.set(n, sent);
    while (this.inFlight.size >= this.place.partsInFlight) await Promise.race(this.inFlight.values());
  }

  /** Writes the state once more parts from 1 on are acknowledged (whole parts only). */
  private advance(): void {
    while (this.done.get(this.contiguous + 1)?.hash) this.contiguous++;
    if (this.contiguous <= this.persisted || this.superseded) return;
    const upTo = this.contiguous;
    this.stateWrites = this.stateWrites.then(() => this.persist(upTo)).catch(() => {});
  }

  private async persist(upTo: number): Promise<void> {
    if (upTo <= this.persisted || this.superseded) return;
    const current = await readUploadState(this.place, this.id);
    if (current && current.owner !== this.owner) {
      if (current.uploadId === this.state.uploadId && current.updated >= this.startedAt) {
        this.superseded = true;
        this.failed ??= new FerryError(
          "EBUSY",
          `another put of ${JSON.stringify(this.target.clientPath)} took over this upload`,
        );
        return;
      }
      // Another upload of the same path and size wrote after this one began: it keeps the state.
      if (
        current.uploadId !== this.state.uploadId &&
        current.updated > this.startedAt &&
        this.persisted === 0
      ) {
        this.superseded = true;
        return;
      }
    }
    const parts = [...Array(upTo).keys()].map((i) => ({
      n: i + 1,
      etag: (this.done.get(i + 1) as DonePart).etag,
    }));
    this.state = {
      ...this.state,
      parts,
      hash: (this.done.get(upTo) as DonePart).hash,
      owner: this.owner,
      updated: Date.now(),
    };
    await writeUploadState(this.place, this.id, this.state);
    this.persisted = upTo;
  }

  /**
   * S3 fixes an object's metadata when its multipart upload is created, before the md5 of a put
   * with a trailer is known, so the md5 (and an mtime that differs) goes on afterwards with a copy
   * onto itself, pinned by CopySourceIfMatch to the object this put just completed: if another put
   * replaced it meanwhile, that one's object keeps its own metadata. Objects over 5 GiB keep no
   * md5 (a get of one hashes while it sends).
   */
  private async fixMetadata(partEtags: string[]): Promise<void> {
    const md5 = await this.digest();
    const mtime = this.target.mtime ?? null;
    const { created } = this.state;
    if (created.md5 === md5 && created.mtime === mtime) return;
    if (this.target.size > S3_MAX_COPY) return;
    const { place, target } = this;
    await place.client
      .send(
        new CopyObjectCommand({
          Bucket: place.bucket,
          Key: target.key,
          CopySource: copySource(place.bucket, target.key),
          CopySourceIfMatch: multipartEtag(partEtags),
          MetadataDirective: "REPLACE",
          Metadata: metadataOf(md5, mtime),
        }),
      )
      .catch((err) => {
        if (s3ErrorName(err) !== "PreconditionFailed" && !isS3NotFound(err)) throw err;
      });
  }

  private async dropState(): Promise<void> {
    await this.stateWrites;
    this.superseded = true; // no state write after this
    const current = await readUploadState(this.place, this.id);
    if (current?.uploadId === this.state.uploadId) await deleteUploadState(this.place, this.id);
  }

  private dropBuffer(): void {
    if (!this.buf) return;
    this.buf = null;
    this.filled = 0;
    this.place.uploadMemory.give(this.partSize);
  }

  private async settleInFlight(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled(this.inFlight.values());
  }

  private throwIfFailed(): void {
    if (this.failed) throw s3Error(this.failed, this.target.clientPath);
  }

  private end(): void {
    if (this.released) return;
    this.released = true;
    this.dropBuffer();
    this.release();
  }
}

/** Do the store's parts of this upload still carry the ETags the state lists? */
async function partsStillThere(place: S3Place, state: UploadState): Promise<boolean> {
  const want = new Map(state.parts.map((p) => [p.n, p.etag]));
  let marker: string | undefined;
  try {
    do {
      const out = await place.client.send(
        new ListPartsCommand({
          Bucket: place.bucket,
          Key: state.key,
          UploadId: state.uploadId,
          PartNumberMarker: marker,
        }),
      );
      for (const p of out.Parts ?? []) {
        const etag = want.get(p.PartNumber ?? 0);
        if (etag === undefined) continue;
        if (unquote(etag) !== unquote(p.ETag ?? "") || p.Size !== state.partSize) return false;
        want.delete(p.PartNumber ?? 0);
      }
      marker = out.IsTruncated ? out.NextPartNumberMarker : undefined;
    } while (marker && want.size > 0);
  } catch (err) {
    if (isS3NotFound(err)) return false;
    throw err;
  }
  return want.size === 0;
}

export function metadataOf(md5: string | null, mtime: number | null): Record<string, string> {
  const meta: Record<string, string> = {};
  if (md5) meta[META_MD5] = md5;
  if (mtime !== null) meta[META_MTIME] = String(mtime);
  return meta;
}

export function copySource(bucket: string, key: string): string {
  return `${bucket}/${key.split("/").map(encodeURIComponent).join("/")}`;
}

const unquote = (etag: string) => etag.replace(/^"|"$/g, "");

/** The ETag S3 gives a multipart object: md5 of the parts' binary md5s, then "-" and their count. */
function multipartEtag(partEtags: string[]): string {
  const h = createHash("md5");
  for (const e of partEtags) h.update(Buffer.from(unquote(e), "hex"));
  return `"${h.digest("hex")}-${partEtags.length}"`;
}
