import type { Stats } from "node:fs";
import { constants, lstatSync } from "node:fs";
import { type FileHandle, lstat, open } from "node:fs/promises";
import { FerryError, HASH_ALGORITHMS, type HashAlgorithm } from "@ferry/protocol";
import { errnoOf, fsError } from "../../fs-errors.js";
import { transferHash } from "../hasher.js";
import type { ListBudget } from "../list-budget.js";
import { assertFileTarget } from "../path.js";
import type {
  FileSum,
  QuotaLimits,
  ReadHandle,
  ReserveMemory,
  SpaceFigures,
  Storage,
  StorageEntry,
  StoragePath,
  Upload,
  UploadSpec,
} from "../storage.js";
import type { WriteBudget } from "../write-budget.js";
import { ChecksumCache } from "./checksums.js";
import { commitFile, commitFileSync } from "./commit.js";
import { DirHandles, type DirRef } from "./dir-handles.js";
import { entryOf } from "./entry.js";
import { FreeSpace, type Reservation } from "./free-space.js";
import { HASH_BUFFER_BYTES } from "./hash-file.js";
import { lentRange } from "./lent-range.js";
import { sortedListing } from "./listing.js";
import { assertRegularFile, LocalReadHandle } from "./local-read.js";
import {
  type Claimed,
  LocalUpload,
  openClaimed,
  type UploadPlace,
  type UploadTarget,
} from "./local-upload.js";
import { closeOpenFile, openForRead } from "./open-read.js";
import { openRoot } from "./root.js";
import { Sandbox, STAGING_DIR } from "./sandbox.js";
import { partialMeta, Staging } from "./staging.js";
import { SYNC_IO_MAX } from "./sync-io.js";
import { makeDir, type Removed, removeName, renameName, statName } from "./tree.js";
import { bothReservations, Usage } from "./usage.js";

/** What every local storage of one server shares or is told: budgets, limits, durability. */
export interface LocalConfig {
  /** fsync file and directory before a commit counts as done. */
  readonly fsync: boolean;
  /** Big transfers may hash on a worker thread. */
  readonly hashThread: boolean;
  /** Partials older than this are removed when the storage becomes writable. */
  readonly stalePartialMs: number;
  /** Memory for the names of listings in progress, shared by every storage of the server. */
  readonly listBudget: ListBudget;
  /** A directory with more entries is ETOOBIG. */
  readonly maxListEntries: number;
  /** The write buffers of streamed uploads, shared by every storage of the server. */
  readonly writeBudget: WriteBudget;
}

/**
 * One served directory: the local backend of {@link Storage}. It keeps the sandbox's link rules,
 * its directory handles (every path walked one handle at a time, nothing outside the root ever
 * opened), staging (uploads in `.ferry-staging/`, fsynced, renamed into place), checksums, free
 * space and (once a quota needs it) usage. Every change of a name that a quota sees (commit, delete,
 * rename) goes through here, so the counts cannot be missed.
 */
export class LocalStorage implements Storage, UploadPlace {
  private writable = false;
  private opening: Promise<void> | null = null;
  private usageOf: Usage | null = null;
  readonly checksums = new ChecksumCache();
  readonly hashes: readonly HashAlgorithm[] = HASH_ALGORITHMS;
  readonly staging: Staging;
  private readonly freeSpace: FreeSpace;

  private constructor(
    /** Real path of the root. */
    readonly location: string,
    private readonly dirs: DirHandles,
    private readonly config: LocalConfig,
  ) {
    this.staging = new Staging(location);
    this.freeSpace = new FreeSpace(location);
  }

  /** Opens (creating if missing) the directory `root`; made writable at once when `writable`. */
  static async open(root: string, writable: boolean, config: LocalConfig): Promise<LocalStorage> {
    const real = await openRoot(root, !writable);
    const sandbox = new Sandbox(real);
    const dirs = await DirHandles.open(sandbox);
    const storage = new LocalStorage(real, dirs, config);
    if (writable) {
      await storage.makeWritable().catch(async (err) => {
        await dirs.close();
        throw err;
      });
    }
    return storage;
  }

  get fsync(): boolean {
    return this.config.fsync;
  }

  get hashThread(): boolean {
    return this.config.hashThread;
  }

  get writeBudget(): WriteBudget {
    return this.config.writeBudget;
  }

  /** Staging created if missing, partials of a server that died adopted, stale ones removed. */
  makeWritable(): Promise<void> {
    if (this.writable) return Promise.resolve();
    this.opening ??= (async () => {
      await this.staging.open();
      await this.staging.adoptOrphans();
      await this.staging.cleanStale(this.config.stalePartialMs);
      this.writable = true;
    })().catch((err) => {
      this.opening = null;
      throw new FerryError(
        "EACCES",
        `cannot write to ${this.location}: ${(err as Error).message}`,
        {},
        { cause: err },
      );
    });
    return this.opening;
  }

  async stat(p: StoragePath, alg: HashAlgorithm = "md5"): Promise<StorageEntry> {
    const { st, names } = await statName(this.dirs, p);
    const name = p.isRoot ? "/" : (p.names[p.names.length - 1] as string);
    return entryOf(name, st, st.isFile() ? this.checksums.get(names.join("/"), st, alg) : undefined, alg);
  }

  /**
   * See sortedListing: only the names are held, within the server's listing budget; entries are
   * lstat'ed a batch at a time as the caller asks. A path that names a file (links inside the root
   * followed) lists that one entry.
   */
  async *list(p: StoragePath, alg: HashAlgorithm = "md5"): AsyncGenerator<readonly StorageEntry[]> {
    const found = await this.dirs.follow(p);
    let held: DirRef;
    try {
      if (!found.st.isDirectory()) {
        if (p.dirOnly) throw new FerryError("ENOTDIR", `not a directory: ${JSON.stringify(p.client)}`);
        const name = p.names[p.names.length - 1] as string;
        const key = found.name === null ? "" : found.names.join("/");
        const known = found.st.isFile() ? this.checksums.get(key, found.st, alg) : undefined;
        yield [entryOf(name, found.st, known, alg)];
        return;
      }
      held = found.name === null ? found.dir : await this.dirs.acquire(found.names, p.client);
    } finally {
      if (found.name !== null) found.dir.release();
    }
    try {
      const prefix = held.names.length > 0 ? `${held.names.join("/")}/` : "";
      const batches = sortedListing(held.path, {
        budget: this.config.listBudget,
        maxEntries: this.config.maxListEntries,
        lstat: (name) => lstat(held.at(name)),
      });
      for await (const stated of batches) {
        yield stated.map(({ name, stats: st }) =>
          entryOf(name, st, st.isFile() ? this.checksums.get(prefix + name, st, alg) : undefined, alg),
        );
      }
    } catch (err) {
      throw fsError(err, p.client);
    } finally {
      held.release();
    }
  }

  openRead(p: StoragePath): Promise<ReadHandle> {
    return this.openFile(p);
  }

  private async openFile(p: StoragePath): Promise<LocalReadHandle> {
    const { file, real, st } = await openForRead(this.dirs, p);
    try {
      assertRegularFile(p, st);
    } catch (err) {
      await closeOpenFile(file).catch(() => {});
      throw err;
    }
    return new LocalReadHandle(file, st, real, this.checksums, p.client);
  }

  async sum(p: StoragePath, alg: HashAlgorithm, reserve: ReserveMemory = async () => {}): Promise<FileSum> {
    const handle = await this.openFile(p);
    try {
      let hex = handle.knownHash(alg);
      if (hex === undefined) {
        await reserve(Math.min(handle.size, HASH_BUFFER_BYTES));
        const hash = transferHash(handle.size, this.config.hashThread, alg);
        try {
          await handle.hashAll(hash);
          hex = await hash.digest();
        } finally {
          hash.close();
        }
        await handle.assertUnchanged();
        handle.remember(alg, hex);
      }
      return { size: handle.size, mtime: handle.mtime, alg, hash: hex };
    } finally {
      await handle.close().catch(() => {});
    }
  }

  /**
   * Admission, then (with `resume`) the claim of a partial, then room: the target's directory is
   * walked (made with `parents`) and held until the upload ends; a directory under the name is
   * EISDIR, an existing name without `overwrite` EEXIST; free space and quota are reserved for the
   * bytes still to come.
   */
  async beginUpload(spec: UploadSpec): Promise<Upload> {
    const target = await this.admit(spec);
    const rel = spec.path.rel;
    let claimed: Claimed | null = null;
    let ticket: ReturnType<Staging["track"]> | null = null;
    try {
      claimed = spec.resume ? await this.staging.claim(rel, spec.size, spec.hash, spec.alg) : null;
      if (!claimed && spec.resume && spec.resumeTarget && spec.overwrite) {
        claimed = await this.targetAsPartial(spec, target);
      }
      ticket = this.staging.track(rel, spec.size);
      const fh = claimed ? await openClaimed(claimed.file) : null;
      try {
        const reservation = await this.reserve(spec, claimed?.bytes ?? 0, target.existing);
        return new LocalUpload(this, spec, target, ticket, reservation, claimed, fh);
      } catch (err) {
        await fh?.close().catch(() => {});
        throw err;
      }
    } catch (err) {
      // A claimed partial goes back, for the next attempt.
      if (claimed) {
        const meta = partialMeta(rel, spec);
        const file = claimed.file;
        await this.staging.keep(file, meta).catch(() => this.staging.discard(file));
      }
      ticket?.done();
      target.dir.release();
      throw fsError(err, spec.path.client);
    }
  }

  async mkdir(p: StoragePath, parents: boolean): Promise<void> {
    await makeDir(this.dirs, p, parents);
  }

  /** Deletes a name (see removeName); regular files removed, even by a tree that failed midway, are counted. */
  async delete(p: StoragePath, recursive: boolean): Promise<void> {
    const removed: Removed = { bytes: 0, files: 0 };
    let kind = "other" as "file" | "other";
    const change = async () => {
      try {
        kind = await removeName(this.dirs, p, recursive, removed);
      } finally {
        this.usageOf?.add({ bytes: -removed.bytes, files: -removed.files });
      }
    };
    try {
      await (this.usageOf ? this.usageOf.exclusive(change) : change());
    } finally {
      // Cached directory handles may point at what was removed (a directory, or a link to one).
      if (kind !== "file") this.dirs.forget();
    }
  }

  /** Renames a name (see renameName); a regular file it replaces is counted as removed. */
  async rename(from: StoragePath, to: StoragePath, overwrite: boolean): Promise<void> {
    const replaced: Removed = { bytes: 0, files: 0 };
    const change = async () => {
      try {
        await renameName(this.dirs, from, to, overwrite, replaced);
      } finally {
        this.usageOf?.add({ bytes: -replaced.bytes, files: -replaced.files });
      }
    };
    try {
      await (this.usageOf ? this.usageOf.exclusive(change) : change());
    } finally {
      // Cached directory handles may point at what was moved or replaced.
      this.dirs.forget();
    }
  }

  async space(quota: QuotaLimits | null): Promise<SpaceFigures> {
    const { free, total } = await this.freeSpace.usage();
    if (!quota || (quota.bytes === undefined && quota.files === undefined)) return { free, total };
    const { used } = await this.usage().current();
    return { free, total, used: { bytes: used.bytes, files: used.files } };
  }

  /** Removes partials older than `maxAgeMs` (nothing when nobody writes here). */
  async sweep(maxAgeMs: number): Promise<void> {
    if (this.writable) await this.staging.cleanStale(maxAgeMs);
  }

  /** Counts the root again on the next need (the users file was reloaded). */
  async recount(): Promise<void> {
    await this.usageOf?.recount();
  }

  async close(): Promise<void> {
    await this.dirs.close();
    await this.staging.close();
  }

  /**
   * Puts a verified staged file of `size` bytes under its name (see commitFile) and commits its
   * reservation. With usage counted, what the name held is measured right before and the difference
   * counted, as one step among this root's changes.
   */
  async commit(
    staged: string,
    target: UploadTarget,
    opts: { overwrite: boolean; size: number; reservation: Reservation; client: string },
  ): Promise<"moved" | "linked"> {
    const dest = target.dir.at(target.dest);
    // A small file's commit runs inline (see SYNC_IO_MAX): rename or link are as atomic either way.
    const inline = opts.size <= SYNC_IO_MAX;
    const usage = this.usageOf;
    if (!usage) {
      const how = inline
        ? commitFileSync(staged, dest, opts.overwrite, opts.client)
        : await commitFile(staged, dest, opts.overwrite, opts.client);
      opts.reservation.commit();
      return how;
    }
    return usage.exclusive(async () => {
      const before = !opts.overwrite
        ? null
        : inline
          ? lstatOrNullSync(dest, opts.client)
          : await lstatOrNull(dest, opts.client);
      const how = inline
        ? commitFileSync(staged, dest, opts.overwrite, opts.client)
        : await commitFile(staged, dest, opts.overwrite, opts.client);
      const old = before?.isFile() ? before.size : null;
      usage.add({ bytes: opts.size - (old ?? 0), files: old === null ? 1 : 0 });
      opts.reservation.commit();
      return how;
    });
  }

  /**
   * `resumeTarget`: a shorter regular file under the target name is copied into staging and offered
   * like a partial (PROTOCOL.md §6), so the target stays whole until the commit. Null when there is
   * none. The copy goes 1 MiB at a time through lent buffers: memory stays bounded by the file's size.
   */
  private async targetAsPartial(spec: UploadSpec, target: UploadTarget): Promise<Claimed | null> {
    const old = target.existing;
    if (!old?.isFile() || old.size === 0 || old.size >= spec.size) return null;
    const src = await open(target.dir.at(target.dest), constants.O_RDONLY | constants.O_NOFOLLOW).catch(
      () => null,
    );
    if (!src) return null;
    let copy: { file: string; fh: FileHandle } | null = null;
    try {
      const st = await src.stat();
      if (!st.isFile() || st.size === 0 || st.size >= spec.size) return null;
      copy = await this.staging.create(partialMeta(spec.path.rel, spec));
      let at = 0;
      for await (const chunk of lentRange(src, 0, st.size)) {
        try {
          await copy.fh.write(chunk.bytes, 0, chunk.bytes.length, at);
          at += chunk.bytes.length;
        } finally {
          chunk.release();
        }
      }
      await copy.fh.close();
      return { file: copy.file, bytes: at };
    } catch (err) {
      if (copy) {
        await copy.fh.close().catch(() => {});
        await this.staging.discard(copy.file);
      }
      throw fsError(err, spec.path.client);
    } finally {
      await src.close().catch(() => {});
    }
  }

  /** The put's target, checked before a byte of payload; its directory is held until released. */
  private async admit(spec: UploadSpec): Promise<UploadTarget> {
    const p = spec.path;
    assertFileTarget(p);
    let dir: DirRef;
    try {
      dir = await this.dirs.acquire(p.names.slice(0, -1), p.client, spec.parents);
    } catch (err) {
      throw fsError(err, p.client);
    }
    try {
      const name = p.names[p.names.length - 1] as string;
      if (name === STAGING_DIR) throw new FerryError("EBADPATH", "reserved name");
      // One lstat per file, so a refused put is answered without waiting for its bytes; inline for a
      // small file (see SYNC_IO_MAX), whose whole put costs less than a thread-pool hand-off.
      const existing =
        spec.size <= SYNC_IO_MAX
          ? lstatOrNullSync(dir.at(name), p.client)
          : await lstatOrNull(dir.at(name), p.client);
      if (existing?.isDirectory())
        throw new FerryError("EISDIR", `is a directory: ${JSON.stringify(p.client)}`);
      if (existing && !spec.overwrite) {
        throw new FerryError("EEXIST", `already exists: ${JSON.stringify(p.client)}`);
      }
      return { dir, dest: name, destReal: [...dir.names, name].join("/"), existing };
    } catch (err) {
      dir.release();
      throw err;
    }
  }

  /**
   * Room for an upload: the disk's free space, and with a quota the user's share of this root
   * (checked first: it needs no statfs). EQUOTA or ENOSPC before a byte of payload.
   */
  private async reserve(spec: UploadSpec, staged: number, replaces: Stats | null): Promise<Reservation> {
    let quota: Reservation | null = null;
    const limits: QuotaLimits | null = spec.quota;
    if (limits) {
      const usage = this.usage();
      await usage.current();
      // An overwrite gives back the file it replaces: no new file, only the growth in bytes.
      const old = replaces?.isFile() ? replaces : null;
      quota = usage.reserve({ bytes: spec.size - (old?.size ?? 0), files: old ? 0 : 1 }, limits);
    }
    try {
      return bothReservations(await this.freeSpace.reserve(spec.size - staged), quota);
    } catch (err) {
      quota?.release();
      throw err;
    }
  }

  /** The usage counts, created (and the root counted) on first need. */
  private usage(): Usage {
    this.usageOf ??= new Usage(this.location);
    return this.usageOf;
  }
}

async function lstatOrNull(file: string, client: string): Promise<Stats | null> {
  return lstat(file).catch((err) => {
    if (errnoOf(err) === "ENOENT") return null;
    throw fsError(err, client);
  });
}

function lstatOrNullSync(file: string, client: string): Stats | null {
  try {
    return lstatSync(file, { throwIfNoEntry: false }) ?? null;
  } catch (err) {
    throw fsError(err, client);
  }
}
