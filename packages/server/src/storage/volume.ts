import type { Stats } from "node:fs";
import { lstat } from "node:fs/promises";
import path from "node:path";
import { FerryError } from "@ferry/protocol";
import { errnoOf } from "../fs-errors.js";
import { ChecksumCache } from "./checksums.js";
import { commitFile } from "./commit.js";
import { DirHandles } from "./dir-handles.js";
import { FreeSpace, type Reservation } from "./free-space.js";
import { openRoot } from "./root.js";
import { type Resolved, Sandbox } from "./sandbox.js";
import { Staging } from "./staging.js";
import { type Removed, removeName, renameName } from "./tree.js";
import { bothReservations, type QuotaLimits, Usage } from "./usage.js";

/** An upload asking for room: its size, the bytes of it already staged, and the file it may replace. */
export interface UploadNeed {
  readonly size: number;
  readonly staged: number;
  /** What is under the target name at admission (null: nothing). */
  readonly replaces: Stats | null;
}

/**
 * One served root and everything ferryd keeps for it: the sandbox, its directory handles, staging,
 * checksums, free space and (once a quota needs it) its usage. Users with the same root share one
 * Volume, so their uploads reserve from the same free space and quota counts. Every change of a
 * name that a quota sees (commit, delete, rename) goes through here, so the counts cannot be missed.
 */
export class Volume {
  private writable = false;
  private opening: Promise<void> | null = null;
  private usageOf: Usage | null = null;

  private constructor(
    /** Real path of the root. */
    readonly root: string,
    readonly sandbox: Sandbox,
    readonly dirs: DirHandles,
    readonly staging: Staging,
    readonly checksums: ChecksumCache,
    readonly space: FreeSpace,
  ) {}

  static async open(root: string, writable: boolean, stalePartialMs: number): Promise<Volume> {
    const real = await openRoot(root, !writable);
    const sandbox = new Sandbox(real);
    const dirs = await DirHandles.open(sandbox);
    const volume = new Volume(
      real,
      sandbox,
      dirs,
      new Staging(real),
      new ChecksumCache(),
      new FreeSpace(real),
    );
    if (writable) {
      await volume.makeWritable(stalePartialMs).catch(async (err) => {
        await dirs.close();
        throw err;
      });
    }
    return volume;
  }

  /**
   * Readies staging the first time a writer needs this root (a read-only user may have opened it):
   * created if missing, partials of a server that died adopted, stale ones removed.
   */
  makeWritable(stalePartialMs: number): Promise<void> {
    if (this.writable) return Promise.resolve();
    this.opening ??= (async () => {
      await this.staging.open();
      await this.staging.adoptOrphans();
      await this.staging.cleanStale(stalePartialMs);
      this.writable = true;
    })().catch((err) => {
      this.opening = null;
      throw new FerryError(
        "EACCES",
        `cannot write to ${this.root}: ${(err as Error).message}`,
        {},
        { cause: err },
      );
    });
    return this.opening;
  }

  get isWritable(): boolean {
    return this.writable;
  }

  /** Removes partials older than `maxAgeMs` (nothing when nobody writes here). */
  async sweep(maxAgeMs: number): Promise<void> {
    if (this.writable) await this.staging.cleanStale(maxAgeMs);
  }

  /** The usage counts, created (and the root counted) on first need. */
  usage(): Usage {
    this.usageOf ??= new Usage(this.root);
    return this.usageOf;
  }

  /** Counts the root again on the next need (the users file was reloaded). */
  async recount(): Promise<void> {
    await this.usageOf?.recount();
  }

  /**
   * Room for an upload: the disk's free space, and with `limits` the user's quota on this root
   * (checked first: it needs no statfs). EQUOTA or ENOSPC before a byte of payload.
   */
  async reserve(need: UploadNeed, limits: QuotaLimits | null): Promise<Reservation> {
    let quota: Reservation | null = null;
    if (limits) {
      const usage = this.usage();
      await usage.current();
      // An overwrite gives back the file it replaces: no new file, only the growth in bytes.
      const old = need.replaces?.isFile() ? need.replaces : null;
      quota = usage.reserve({ bytes: need.size - (old?.size ?? 0), files: old ? 0 : 1 }, limits);
    }
    try {
      return bothReservations(await this.space.reserve(need.size - need.staged), quota);
    } catch (err) {
      quota?.release();
      throw err;
    }
  }

  /**
   * Puts a verified staged file of `size` bytes under its name (see commitFile) and commits its
   * reservation. With usage counted, what the name held is measured right before and the difference
   * counted, as one step among this root's changes.
   */
  async commit(
    staged: string,
    dest: string,
    opts: { overwrite: boolean; size: number; reservation: Reservation },
  ): Promise<"moved" | "linked"> {
    const usage = this.usageOf;
    if (!usage) {
      const how = await commitFile(staged, dest, opts.overwrite);
      opts.reservation.commit();
      return how;
    }
    return usage.exclusive(async () => {
      const before = opts.overwrite ? await lstatOrNull(dest) : null;
      const how = await commitFile(staged, dest, opts.overwrite);
      const old = before?.isFile() ? before.size : null;
      usage.add({ bytes: opts.size - (old ?? 0), files: old === null ? 1 : 0 });
      opts.reservation.commit();
      return how;
    });
  }

  /** Deletes a name (see removeName); regular files removed, even by a tree that failed midway, are counted. */
  async remove(r: Resolved, recursive: boolean): Promise<void> {
    const removed: Removed = { bytes: 0, files: 0 };
    let kind = "other" as "file" | "other";
    const change = async () => {
      try {
        kind = await removeName(this.dirs, r, recursive, removed);
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
  async rename(from: Resolved, to: Resolved, overwrite: boolean): Promise<void> {
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

  async close(): Promise<void> {
    await this.dirs.close();
    await this.staging.close();
  }
}

async function lstatOrNull(file: string): Promise<Stats | null> {
  return lstat(file).catch((err) => (errnoOf(err) === "ENOENT" ? null : Promise.reject(err)));
}

/**
 * The volumes of one server, opened lazily by root and shared by every user with that root (two
 * spellings of one directory are one volume). Kept open until the server closes: there are at most
 * as many as distinct roots in the users file.
 */
export class Volumes {
  private readonly byPath = new Map<string, Promise<Volume>>();
  private readonly byReal = new Map<string, Volume>();

  constructor(private readonly stalePartialMs: number) {}

  /** The volume of `root`, opened (and made writable when `writable`) if it is not yet. */
  async open(root: string, writable: boolean): Promise<Volume> {
    const abs = path.resolve(root);
    let opening = this.byPath.get(abs);
    if (!opening) {
      opening = this.openNew(abs, writable);
      this.byPath.set(abs, opening);
      // A root that cannot be opened now (missing disk, permissions) is tried again next time.
      opening.catch(() => this.byPath.delete(abs));
    }
    const volume = await opening;
    if (writable) await volume.makeWritable(this.stalePartialMs);
    return volume;
  }

  private async openNew(abs: string, writable: boolean): Promise<Volume> {
    const volume = await Volume.open(abs, writable, this.stalePartialMs);
    const same = this.byReal.get(volume.root);
    if (same) {
      await volume.close();
      return same;
    }
    this.byReal.set(volume.root, volume);
    return volume;
  }

  get all(): Volume[] {
    return [...this.byReal.values()];
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.all.map((v) => v.close()));
  }
}
