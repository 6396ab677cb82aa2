import { constants, existsSync } from "node:fs";
import { type FileHandle, open, readlink } from "node:fs/promises";
import path from "node:path";
import { FerryError } from "@ferry/protocol";
import type { Resolved, Sandbox } from "./sandbox.js";

/** How long an open directory is reused before it is looked up again by name. */
export const DIR_TTL_MS = 1_000;
const MAX_OPEN_DIRS = 64;
const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY;
const PROC_FD = existsSync("/proc/self/fd") ? "/proc/self/fd" : null;

/**
 * A directory inside the root, held open. `at(name)` names an entry in exactly this directory: with
 * /proc it goes through the descriptor (`/proc/self/fd/N/name`, which the kernel resolves to the inode
 * that was opened and checked), so swapping a path component for a symlink after the check cannot
 * redirect a write out of the root — the same guarantee as openat(2). Without /proc it falls back to
 * the checked real path.
 */
export interface DirRef {
  /** Real path of the directory when it was opened (for cache keys and messages). */
  readonly real: string;
  readonly fh: FileHandle;
  at(name: string): string;
  /** Makes entries added or removed in this directory so far durable (a shared, group sync). */
  sync(): Promise<void>;
  release(): void;
}

interface Entry {
  readonly fh: FileHandle;
  readonly real: string;
  readonly expires: number;
  refs: number;
  dead: boolean;
  /** The directory sync running now, and the one queued behind it (shared by all who ask meanwhile). */
  syncing: Promise<void> | null;
  queued: Promise<void> | null;
}

/**
 * Directories that puts write into, opened once and checked once (their real path must be inside
 * the root), then reused for {@link DIR_TTL_MS}: a burst of small puts into one directory costs no
 * realpath/lstat of the parent per file, and fsyncing the directory is one call on a handle already
 * open. Entries are dropped when this server renames anything or deletes anything but a plain file
 * (`forget`), and expired ones when the next put comes (a server gone quiet keeps at most 64 directory
 * descriptors open). A handle is closed only once no put holds it, so its descriptor number is never
 * reused under a put.
 */
export class DirHandles {
  private readonly entries = new Map<string, Entry>();
  private readonly opening = new Map<string, Promise<Entry>>();
  private generation = 0;

  constructor(private readonly sandbox: Sandbox) {}

  /** The directory `dir` (must exist), held until `release()`. */
  async acquire(dir: Resolved): Promise<DirRef> {
    const key = dir.rel;
    this.dropExpired();
    let entry = this.entries.get(key);
    if (entry && entry.expires <= Date.now()) {
      this.drop(key, entry);
      entry = undefined;
    }
    if (!entry) {
      let pending = this.opening.get(key);
      if (!pending) {
        pending = this.openChecked(dir);
        this.opening.set(key, pending);
        const gen = this.generation;
        pending
          .then((e) => {
            if (this.opening.get(key) !== pending) return;
            this.opening.delete(key);
            // Opened across a forget(): usable by whoever asked, but not cached. Without /proc the
            // handle cannot pin the directory, so a cached real path would widen the window in which
            // a swapped-in symlink could redirect a write: then nothing is cached.
            if (gen !== this.generation || !PROC_FD) e.dead = true;
            else this.remember(key, e);
          })
          .catch(() => this.opening.delete(key));
      }
      entry = await pending;
    }
    entry.refs++;
    const held = entry;
    let released = false;
    return {
      real: held.real,
      fh: held.fh,
      at: (name) => (PROC_FD ? `${PROC_FD}/${held.fh.fd}/${name}` : path.join(held.real, name)),
      sync: () => groupSync(held),
      release: () => {
        if (released) return;
        released = true;
        held.refs--;
        if (held.dead && held.refs === 0) void held.fh.close().catch(() => {});
      },
    };
  }

  /** Something was deleted or renamed: every cached directory is looked up again next time. */
  forget(): void {
    this.generation++;
    this.opening.clear();
    for (const [key, entry] of this.entries) this.drop(key, entry);
  }

  private async openChecked(dir: Resolved): Promise<Entry> {
    const fh = await open(dir.abs, DIR_FLAGS);
    try {
      const real = PROC_FD ? await readlink(`${PROC_FD}/${fh.fd}`) : dir.abs;
      if (!this.sandbox.contains(real)) {
        throw new FerryError(
          "EBADPATH",
          `path not allowed (resolves outside the root): ${JSON.stringify(dir.client || "/")}`,
        );
      }
      return {
        fh,
        real,
        expires: Date.now() + DIR_TTL_MS,
        refs: 0,
        dead: false,
        syncing: null,
        queued: null,
      };
    } catch (err) {
      await fh.close();
      throw err;
    }
  }

  /** Entries are kept in the order they were opened, so the expired ones are at the front. */
  private dropExpired(): void {
    const now = Date.now();
    for (const [key, entry] of this.entries) {
      if (entry.expires > now) return;
      this.drop(key, entry);
    }
  }

  private remember(key: string, entry: Entry): void {
    const old = this.entries.get(key);
    if (old) this.drop(key, old);
    this.entries.set(key, entry);
    if (this.entries.size > MAX_OPEN_DIRS) {
      const [oldestKey, oldest] = this.entries.entries().next().value as [string, Entry];
      this.drop(oldestKey, oldest);
    }
  }

  private drop(key: string, entry: Entry): void {
    if (this.entries.get(key) === entry) this.entries.delete(key);
    entry.dead = true;
    if (entry.refs === 0) void entry.fh.close().catch(() => {});
  }
}

/**
 * Group commit for a directory: the promise resolves once a sync that *started after this call* has
 * finished, so every entry added before the call is durable. Callers that arrive while a sync runs
 * share the one queued behind it instead of each paying for their own.
 */
function groupSync(entry: Entry): Promise<void> {
  if (entry.queued) return entry.queued;
  const start = (): Promise<void> => {
    const run = entry.fh.sync().finally(() => {
      if (entry.syncing === run) entry.syncing = null;
    });
    entry.syncing = run;
    return run;
  };
  if (!entry.syncing) return start();
  const queued = entry.syncing
    .catch(() => {})
    .then(() => {
      entry.queued = null;
      return start();
    });
  entry.queued = queued;
  return queued;
}
