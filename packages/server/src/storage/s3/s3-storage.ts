import { HeadBucketCommand } from "@aws-sdk/client-s3";
import { FerryError, type HashAlgorithm } from "@ferry/protocol";
import { assertFileTarget } from "../path.js";
import type {
  FileSum,
  ReadHandle,
  ReserveMemory,
  SpaceFigures,
  Storage,
  StorageEntry,
  StoragePath,
  Upload,
  UploadSpec,
} from "../storage.js";
import { Md5Memo } from "./md5-memo.js";
import type { S3Settings } from "./s3-config.js";
import { deleteS3 } from "./s3-delete.js";
import { ensureDir, mkdirS3 } from "./s3-dirs.js";
import { s3Error } from "./s3-errors.js";
import { listPages } from "./s3-listing.js";
import { S3Place } from "./s3-place.js";
import { S3ReadHandle } from "./s3-read-handle.js";
import { renameS3 } from "./s3-rename.js";
import { probeNames, type S3Node, statNames } from "./s3-stat.js";
import { S3StorageUpload } from "./s3-storage-upload.js";
import { beginS3Upload } from "./s3-upload.js";
import { abortStaleUploads } from "./stale-uploads.js";

/** How often a writable S3 storage aborts stale multipart uploads, besides when it opens. */
export const SWEEP_EVERY_MS = 3600_000;

const q = JSON.stringify;

/**
 * A bucket prefix as the S3 backend of {@link Storage}. Files are objects, directories key prefixes
 * (an empty one a marker object); see S3Keys. What differs from a local root (README, "ferryd on
 * S3"): a directory rename is not atomic, there are no links, no free-space check and no quotas,
 * and any number of ferryd processes may serve one bucket at once.
 */
export class S3Storage implements Storage {
  readonly location: string;
  /**
   * md5 only, for now: the object's md5 is kept in its metadata (`x-amz-meta-ferry-md5`) and a
   * resumable multipart upload saves its md5 state; another algorithm would need both (PROTOCOL.md §1.2).
   */
  readonly hashes: readonly HashAlgorithm[] = ["md5"];
  private readonly memo = new Md5Memo();
  private writable: Promise<void> | null = null;
  private sweeper: NodeJS.Timeout | null = null;

  private constructor(
    private readonly place: S3Place,
    private readonly stalePartialMs: number,
  ) {
    this.location = `s3://${place.bucket}/${place.keys.prefix}`;
  }

  static async open(
    settings: S3Settings & { uploadMemory?: number },
    writable: boolean,
    stalePartialMs: number,
  ): Promise<S3Storage> {
    const storage = new S3Storage(S3Place.open(settings), stalePartialMs);
    try {
      await storage.place.client.send(new HeadBucketCommand({ Bucket: settings.bucket }));
      if (writable) await storage.makeWritable();
    } catch (err) {
      storage.place.close();
      throw s3Error(err, storage.location, "cannot open the bucket");
    }
    return storage;
  }

  /** Aborts stale uploads now and then every {@link SWEEP_EVERY_MS}. */
  makeWritable(): Promise<void> {
    this.writable ??= (async () => {
      await this.sweep(this.stalePartialMs);
      this.sweeper = setInterval(() => void this.sweep(this.stalePartialMs).catch(() => {}), SWEEP_EVERY_MS);
      this.sweeper.unref();
    })().catch((err) => {
      this.writable = null;
      throw s3Error(err, this.location, "cannot write to the bucket");
    });
    return this.writable;
  }

  async stat(p: StoragePath, alg: HashAlgorithm = "md5"): Promise<StorageEntry> {
    const node = await this.node(p);
    const name = p.isRoot ? "/" : (p.names[p.names.length - 1] as string);
    const entry = this.entryOf(name, node);
    if (alg === "md5") return entry;
    // The objects' md5s are no answer in another algorithm (as in list).
    const { md5: _md5, ...rest } = entry;
    return rest;
  }

  async *list(p: StoragePath, alg: HashAlgorithm = "md5"): AsyncGenerator<readonly StorageEntry[]> {
    if (alg !== "md5") {
      // The objects' md5s are no answer in another algorithm: the names and sizes are.
      for await (const batch of this.list(p)) yield batch.map(({ md5: _md5, ...entry }) => entry);
      return;
    }
    const node = await this.node(p);
    if (node.kind === "file") {
      yield [this.entryOf(p.names[p.names.length - 1] as string, node)];
      return;
    }
    try {
      yield* listPages(this.place, node.prefix);
    } catch (err) {
      throw s3Error(err, p.client);
    }
  }

  async openRead(p: StoragePath): Promise<ReadHandle> {
    return this.openFile(p);
  }

  async sum(p: StoragePath, alg: HashAlgorithm, _reserve?: ReserveMemory): Promise<FileSum> {
    assertMd5(alg, p.client);
    const handle = await this.openFile(p);
    let md5 = handle.md5;
    if (md5 === undefined) {
      try {
        md5 = await handle.hashAll();
      } catch (err) {
        throw s3Error(err, p.client);
      }
      handle.remember("md5", md5);
    }
    return { size: handle.size, mtime: handle.mtime, alg, hash: md5 };
  }

  /**
   * Admission (the parent must be a directory, made with `parents`; a directory under the name is
   * EISDIR, an existing file without `overwrite` EEXIST, both asked at once), then the upload.
   * There is no free-space check (a bucket has no size to check against) and no quota. A reput's
   * `resumeTarget` finds no partial in the target object here: it starts from byte 0.
   */
  async beginUpload(spec: UploadSpec): Promise<Upload> {
    const p = spec.path;
    assertMd5(spec.alg, p.client);
    assertFileTarget(p);
    if (spec.quota && (spec.quota.bytes !== undefined || spec.quota.files !== undefined))
      throw new FerryError("EQUOTA", `quotas are not supported on the S3 backend: ${q(p.client)}`);
    try {
      const [, existing] = await Promise.all([
        ensureDir(this.place, p.names.slice(0, -1), spec.parents, p.client),
        probeNames(this.place, p.names),
      ]);
      if (existing === "dir") throw new FerryError("EISDIR", `is a directory: ${q(p.client)}`);
      if (existing && !spec.overwrite) throw new FerryError("EEXIST", `already exists: ${q(p.client)}`);
      const upload = await beginS3Upload(
        this.place,
        {
          path: p.rel,
          clientPath: p.client,
          key: this.place.keys.file(p.names),
          size: spec.size,
          ...(spec.hash !== undefined ? { md5: spec.hash } : {}),
          ...(spec.mtime !== undefined ? { mtime: spec.mtime } : {}),
        },
        spec.resume,
      );
      return new S3StorageUpload(upload, spec.size, spec.overwrite, p.client);
    } catch (err) {
      throw s3Error(err, p.client);
    }
  }

  async mkdir(p: StoragePath, parents: boolean): Promise<void> {
    if (p.isRoot) {
      if (parents) return;
      throw new FerryError("EEXIST", "the root exists");
    }
    try {
      await mkdirS3(this.place, p.names, parents, p.client);
    } catch (err) {
      throw s3Error(err, p.client);
    }
  }

  async delete(p: StoragePath, recursive: boolean): Promise<void> {
    this.place.knownDirs.forget();
    try {
      await deleteS3(this.place, p.names, { recursive, dirOnly: p.dirOnly }, p.client);
    } catch (err) {
      throw s3Error(err, p.client);
    } finally {
      this.place.knownDirs.forget(); // a put meanwhile may have seen a directory this removed
    }
  }

  async rename(from: StoragePath, to: StoragePath, overwrite: boolean): Promise<void> {
    this.place.knownDirs.forget();
    try {
      await renameS3(this.place, {
        from: from.names,
        to: to.names,
        fromClient: from.client,
        toClient: to.client,
        fromDirOnly: from.dirOnly,
        overwrite,
      });
    } catch (err) {
      throw s3Error(err, from.client);
    } finally {
      this.place.knownDirs.forget();
    }
  }

  /** A bucket has no free space or size to report (df shows neither), and S3 keeps no quotas. */
  async space(): Promise<SpaceFigures> {
    return {};
  }

  async sweep(maxAgeMs: number): Promise<void> {
    await abortStaleUploads(this.place, maxAgeMs);
  }

  /** No quotas on S3, so nothing is counted. */
  async recount(): Promise<void> {}

  async close(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    this.place.close();
  }

  /** What `p` names: ENOENT when nothing, ENOTDIR for a file named with a trailing "/". */
  private async node(p: StoragePath): Promise<S3Node> {
    let node: S3Node | null;
    try {
      node = await statNames(this.place, p.names);
    } catch (err) {
      throw s3Error(err, p.client);
    }
    if (!node) throw new FerryError("ENOENT", `no such file or directory: ${q(p.client)}`);
    if (node.kind === "file" && p.dirOnly) throw new FerryError("ENOTDIR", `not a directory: ${q(p.client)}`);
    return node;
  }

  private async openFile(p: StoragePath): Promise<S3ReadHandle> {
    const node = await this.node(p);
    if (node.kind === "dir") throw new FerryError("EISDIR", `is a directory: ${q(p.client)}`);
    return new S3ReadHandle(this.place, node, this.memo);
  }

  private entryOf(name: string, node: S3Node): StorageEntry {
    if (node.kind === "dir") return { name, type: "dir", size: 0, mtime: 0 };
    const md5 = node.md5 ?? this.memo.get(node.key, node.etag);
    return { name, type: "file", size: node.size, mtime: node.mtime, ...(md5 ? { md5 } : {}) };
  }
}

/** The S3 store keeps md5 only (see {@link S3Storage.hashes}); commands refuse others before this. */
function assertMd5(alg: HashAlgorithm, client: string): void {
  if (alg !== "md5")
    throw new FerryError("EALG", `the S3 store keeps md5 only, not ${alg}: ${JSON.stringify(client)}`);
}
