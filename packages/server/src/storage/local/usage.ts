import { constants } from "node:fs";
import { type FileHandle, lstat, open, opendir } from "node:fs/promises";
import { FerryError, humanSize } from "@ferry/protocol";
import { errnoOf } from "../../fs-errors.js";
import type { QuotaLimits } from "../storage.js";
import type { Reservation } from "./free-space.js";
import { STAGING_DIR } from "./sandbox.js";

/** Regular files and their bytes (st.size): what a quota counts. Directories and links are free. */
export interface Amount {
  bytes: number;
  files: number;
}

/** Entries the first count of a root may visit; a bigger tree cannot have a quota. */
export const MAX_COUNTED_ENTRIES = 1_000_000;
/** Deeper than this, the count gives up rather than hold a descriptor per level without end. */
const MAX_COUNT_DEPTH = 256;
const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;

/**
 * What the regular files under one root hold, for quotas: counted once by a walk when first needed,
 * then kept by deltas from this server's own commits, deletes and renames, plus what uploads in
 * progress have reserved. Files changed behind ferryd's back are not seen until the next count (on
 * a reload of the users file, or a restart). Changes made while a count runs are added to it, so
 * they may be counted twice: a quota errs on the full side.
 */
export class Usage {
  private used: Amount = { bytes: 0, files: 0 };
  private readonly reserved: Amount = { bytes: 0, files: 0 };
  private counted: Promise<void> | null = null;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly root: string) {}

  /** The current figures, counting the root first if it never was. */
  async current(): Promise<{ used: Amount; reserved: Amount }> {
    this.counted ??= this.count();
    await this.counted;
    return { used: { ...this.used }, reserved: { ...this.reserved } };
  }

  /** Counts again (a reload): the walk's figure replaces the kept one, changes meanwhile are added. */
  recount(): Promise<void> {
    this.counted = this.count();
    return this.counted;
  }

  private async count(): Promise<void> {
    const before = { ...this.used };
    const walked = await countTree(this.root);
    this.used = {
      bytes: walked.bytes + this.used.bytes - before.bytes,
      files: walked.files + this.used.files - before.files,
    };
  }

  add(delta: Amount): void {
    this.used.bytes += delta.bytes;
    this.used.files += delta.files;
  }

  /**
   * Runs a change whose effect on the figures is measured (lstat of what it replaces, then the
   * change) alone among this root's changes, so two commits racing for one name are each measured
   * against what they really replace.
   */
  exclusive<T>(change: () => Promise<T>): Promise<T> {
    const run = this.tail.then(change);
    this.tail = run.catch(() => {});
    return run;
  }

  /**
   * Holds `need` for an upload, or EQUOTA when it does not fit under `limits` beside what is used and
   * reserved. Checked and held with no await in between: racing uploads cannot both fit in the rest.
   * Call after {@link current} resolved.
   */
  reserve(need: Amount, limits: QuotaLimits): Reservation {
    const bytes = Math.max(0, need.bytes);
    const files = Math.max(0, need.files);
    const { used, reserved } = this;
    if (limits.bytes !== undefined && bytes > 0 && used.bytes + reserved.bytes + bytes > limits.bytes) {
      const also =
        reserved.bytes > 0 ? ` (and ${humanSize(reserved.bytes)} held by uploads in progress)` : "";
      throw new FerryError(
        "EQUOTA",
        `over quota: ${humanSize(used.bytes)} of ${humanSize(limits.bytes)} used${also}; this upload needs ${humanSize(bytes)}`,
        { used: used.bytes, reserved: reserved.bytes, limit: limits.bytes, needed: bytes },
      );
    }
    if (limits.files !== undefined && files > 0 && used.files + reserved.files + files > limits.files) {
      throw new FerryError(
        "EQUOTA",
        `over the file quota: ${used.files} of ${limits.files} files used${reserved.files > 0 ? ` (and ${reserved.files} held by uploads in progress)` : ""}`,
        { usedFiles: used.files, reservedFiles: reserved.files, limitFiles: limits.files },
      );
    }
    return new QuotaHold(this.reserved, { bytes, files });
  }
}

/** A quota's share of an upload: held until it ends. Committing adds nothing: the commit counts what it did. */
class QuotaHold implements Reservation {
  private ended = false;

  constructor(
    private readonly reserved: Amount,
    private readonly held: Amount,
  ) {
    reserved.bytes += held.bytes;
    reserved.files += held.files;
  }

  wrote(): void {}

  commit(): void {
    this.release();
  }

  release(): void {
    if (this.ended) return;
    this.ended = true;
    this.reserved.bytes -= this.held.bytes;
    this.reserved.files -= this.held.files;
  }
}

/** Both of an upload's reservations (free space, quota) as one: every road out ends both. */
export function bothReservations(a: Reservation, b: Reservation | null): Reservation {
  if (!b) return a;
  return {
    wrote: (n) => {
      a.wrote(n);
      b.wrote(n);
    },
    commit: () => {
      a.commit();
      b.commit();
    },
    release: () => {
      a.release();
      b.release();
    },
  };
}

/**
 * The regular files under `root` (the staging folder left out), walked through directory handles
 * opened without following links, like a recursive delete: a directory swapped for a link during
 * the walk is not followed out of the root. Bounded by {@link MAX_COUNTED_ENTRIES} and depth.
 */
export async function countTree(root: string): Promise<Amount> {
  const total: Amount = { bytes: 0, files: 0 };
  let seen = 0;
  const tooBig = () =>
    new FerryError(
      "EQUOTA",
      `the root holds over ${MAX_COUNTED_ENTRIES} entries or is over ${MAX_COUNT_DEPTH} levels deep: its usage cannot be counted for a quota`,
    );
  const walk = async (fh: FileHandle, depth: number): Promise<void> => {
    const here = `/proc/self/fd/${fh.fd}`;
    const handle = await opendir(here, { bufferSize: 256 });
    for await (const dirent of handle) {
      // Staging folders are not files of the user: ours at the root, a nested user's below.
      if (dirent.name === STAGING_DIR) continue;
      if (++seen > MAX_COUNTED_ENTRIES) throw tooBig();
      const at = `${here}/${dirent.name}`;
      const st = await lstat(at).catch((err) => (errnoOf(err) === "ENOENT" ? null : Promise.reject(err)));
      if (!st) continue;
      if (st.isFile()) {
        total.bytes += st.size;
        total.files += 1;
      } else if (st.isDirectory()) {
        if (depth >= MAX_COUNT_DEPTH) throw tooBig();
        const sub = await open(at, DIR_FLAGS).catch((err) => {
          const errno = errnoOf(err);
          // Gone or swapped for something else since the lstat, or closed to ferryd itself (so no
          // session can write there either): nothing to count.
          if (errno === "ENOENT" || errno === "ENOTDIR" || errno === "ELOOP" || errno === "EACCES")
            return null;
          throw err;
        });
        if (!sub) continue;
        try {
          await walk(sub, depth + 1);
        } finally {
          await sub.close();
        }
      }
    }
  };
  const fh = await open(root, DIR_FLAGS);
  try {
    await walk(fh, 0);
  } finally {
    await fh.close();
  }
  return total;
}
