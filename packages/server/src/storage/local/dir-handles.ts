import type { Stats } from "node:fs";
import { constants, existsSync, fstatSync } from "node:fs";
import { type FileHandle, lstat, mkdir, open, readlink } from "node:fs/promises";
import { FerryError } from "@ferry/protocol";
import { errnoOf, fsError } from "../../fs-errors.js";
import { MAX_LINK_HOPS, type Resolved, type Sandbox, STAGING_DIR } from "./sandbox.js";

/** How long an open directory is reused before it is looked up again by name. */
export const DIR_TTL_MS = 1_000;
const MAX_OPEN_DIRS = 64;
/** A name that keeps changing kind under us (a swapping attacker) is given up on after this many looks. */
const MAX_RETRIES = 8;
// O_NOFOLLOW: a symlink met on the walk is read and followed by the sandbox's rules, never by the kernel.
const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;
const PROC_FD = "/proc/self/fd";

/**
 * A directory inside the root, held open. `at(name)` names an entry in exactly this directory
 * (`/proc/self/fd/N/name`: the kernel starts from the inode that was opened), so a path component
 * swapped for a symlink after we opened it cannot redirect anything out of the root — the
 * guarantee of openat(2), which Node lacks. Calls on `at(name)` that do not follow a final link
 * (lstat, unlink, rmdir, rename, mkdir, link, open with O_NOFOLLOW) act on that name itself.
 */
export interface DirRef {
  /** Names below the root with every link followed ("" joined for the root). */
  readonly names: readonly string[];
  readonly fh: FileHandle;
  /** `/proc/self/fd/N`: this directory, for opendir. */
  readonly path: string;
  at(name: string): string;
  /** Makes entries added or removed in this directory so far durable (a shared, group sync). */
  sync(): Promise<void>;
  release(): void;
}

/** A name inside a held directory; the caller owns `dir` and must release it. */
export interface Located {
  readonly dir: DirRef;
  readonly name: string;
  /** Names of the entry below the root, every link on the way followed. */
  readonly names: readonly string[];
}

interface Entry {
  readonly fh: FileHandle;
  readonly names: readonly string[];
  readonly expires: number;
  refs: number;
  dead: boolean;
  /** The directory sync running now, and the one queued behind it (shared by all who ask meanwhile). */
  syncing: Promise<void> | null;
  queued: Promise<void> | null;
}

type Step = { fh: FileHandle } | { link: string };

/**
 * Every road from a resolved path to the disk starts here. A path is walked one name at a time from
 * a handle on the root, each directory opened through its parent's handle without following links;
 * a link met on the way is read (inside the root, through its directory's handle) and its text is
 * followed by {@link Sandbox.followLink}, so nothing outside the root is ever opened or looked up,
 * whatever another process swaps in meanwhile. No checked path string is ever resolved again.
 *
 * Opened directories are reused for {@link DIR_TTL_MS}: a burst of small files in one directory
 * costs no walk per file, and fsyncing the directory is one call on a handle already open. Entries
 * are dropped when this server renames anything or deletes anything but a plain file (`forget`),
 * and expired ones as new walks come (at most 64 cached). A handle is closed only once nobody holds
 * it, so its descriptor number is never reused under a caller.
 */
export class DirHandles {
  private readonly entries = new Map<string, Entry>();
  private generation = 0;

  private constructor(
    private readonly sandbox: Sandbox,
    private readonly root: Entry,
  ) {}

  /**
   * Opens the root. Without /proc/self/fd (not Linux) there is no way to act relative to a held
   * directory from Node, and checking a path before using it races with a swapped-in symlink: ferryd
   * refuses to start rather than serve a root it cannot confine.
   */
  static async open(sandbox: Sandbox): Promise<DirHandles> {
    if (!existsSync(PROC_FD)) {
      throw new FerryError(
        "EINTERNAL",
        "ferryd needs /proc/self/fd (Linux) to keep every path inside the root; this system has none",
      );
    }
    const fh = await open(sandbox.root, constants.O_RDONLY | constants.O_DIRECTORY);
    const root: Entry = {
      fh,
      names: [],
      expires: Number.POSITIVE_INFINITY,
      refs: 1,
      dead: false,
      syncing: null,
      queued: null,
    };
    return new DirHandles(sandbox, root);
  }

  /**
   * The directory `names` (every component a directory, links inside the root followed), held until
   * `release()`. `create`: missing directories are made on the way (mkdir -p), each through its
   * parent's handle.
   */
  async acquire(names: readonly string[], client: string, create = false): Promise<DirRef> {
    this.dropExpired();
    const gen = this.generation;
    let target = names;
    let hops = 0;
    walk: for (;;) {
      let i = target.length;
      let cur: Entry | undefined;
      for (; i > 0; i--) {
        cur = this.cached(target.slice(0, i));
        if (cur) break;
      }
      cur ??= this.root;
      // Held across every await: a dropped entry's descriptor number must not be reused under us.
      cur.refs++;
      try {
        for (; i < target.length; i++) {
          const name = target[i] as string;
          if (name === STAGING_DIR) throw reserved(client);
          const here = target.slice(0, i + 1);
          const step = await this.step(cur, name, create, client);
          if ("link" in step) {
            if (++hops > MAX_LINK_HOPS) throw tooManyLinks(client);
            target = this.sandbox.followLink(here.slice(0, -1), step.link, target.slice(i + 1), client);
            continue walk;
          }
          const next = this.adopt(here, step.fh, gen);
          next.refs++;
          unhold(cur);
          cur = next;
        }
        return this.ref(cur);
      } finally {
        unhold(cur);
      }
    }
  }

  /** The directory holding `r`'s final name, and that name, which is not followed (stat, delete, rename). */
  async parentOf(r: Resolved): Promise<Located> {
    if (r.isRoot) throw new FerryError("EBADPATH", "the root has no parent");
    const dir = await this.acquire(r.names.slice(0, -1), r.client);
    const name = r.names[r.names.length - 1] as string;
    if (name === STAGING_DIR) {
      dir.release();
      throw reserved(r.client);
    }
    return { dir, name, names: [...dir.names, name] };
  }

  /**
   * Like {@link parentOf}, but a final symlink is followed (inside the root) until the name is not a
   * link: what get and list act on. `st` is the lstat of that name. The root itself comes back as
   * `name: null` with the root held as `dir`.
   */
  async follow(r: Resolved): Promise<(Located & { st: Stats }) | { dir: DirRef; name: null; st: Stats }> {
    let names: readonly string[] = r.names;
    for (let hops = 0; ; hops++) {
      if (names.length === 0) {
        const dir = this.ref(this.root);
        return { dir, name: null, st: await dir.fh.stat() };
      }
      const { dir, name } = await this.parentOf({ ...r, names, isRoot: false });
      try {
        const st = await lstat(dir.at(name));
        if (!st.isSymbolicLink()) return { dir, name, names: [...dir.names, name], st };
        if (hops >= MAX_LINK_HOPS) throw tooManyLinks(r.client);
        names = this.sandbox.followLink(dir.names, await readlink(dir.at(name)), [], r.client);
        dir.release();
      } catch (err) {
        dir.release();
        throw fsError(err, r.client);
      }
    }
  }

  /** The server stopped: every handle goes, the root's too. */
  async close(): Promise<void> {
    this.forget();
    this.root.dead = true;
    unhold(this.root);
  }

  /** Something was deleted or renamed: every cached directory is looked up again next time. */
  forget(): void {
    this.generation++;
    for (const [key, entry] of this.entries) this.drop(key, entry);
  }

  /**
   * Opens `name` in `dir` as a directory, without following a link. A link is reported with its
   * text; a missing name is made first when `create`. A name that changes kind between our calls is
   * looked at again, a bounded number of times.
   */
  private async step(dir: Entry, name: string, create: boolean, client: string): Promise<Step> {
    const at = `${PROC_FD}/${dir.fh.fd}/${name}`;
    let last: unknown;
    for (let attempt = 0; attempt < MAX_RETRIES; attempt++) {
      try {
        return { fh: await open(at, DIR_FLAGS) };
      } catch (err) {
        last = err;
        const errno = errnoOf(err);
        if (errno === "ENOENT" && create) {
          await mkdir(at).catch((e) => {
            if (errnoOf(e) !== "EEXIST") throw fsError(e, client);
          });
          continue;
        }
        if (errno !== "ENOTDIR" && errno !== "ELOOP") throw fsError(err, client);
      }
      // O_DIRECTORY|O_NOFOLLOW answers ENOTDIR for a symlink as for a file: look at what it is.
      const st = await lstat(at).catch((err) => {
        if (errnoOf(err) === "ENOENT") return null;
        throw fsError(err, client);
      });
      if (!st) continue;
      if (st.isSymbolicLink()) {
        const link = await readlink(at).catch(() => null);
        if (link !== null) return { link };
        continue;
      }
      if (!st.isDirectory()) throw new FerryError("ENOTDIR", `not a directory: ${JSON.stringify(client)}`);
    }
    throw fsError(last, client);
  }

  /**
   * A directory a walk just opened. Cached unless a forget() came since the walk began (it may have
   * been opened before a rename moved it): then it serves this walk only.
   */
  private adopt(here: readonly string[], fh: FileHandle, gen: number): Entry {
    const entry: Entry = {
      fh,
      names: here,
      expires: Date.now() + DIR_TTL_MS,
      refs: 0,
      dead: gen !== this.generation,
      syncing: null,
      queued: null,
    };
    if (!entry.dead) this.remember(here.join("/"), entry);
    return entry;
  }

  private cached(names: readonly string[]): Entry | undefined {
    const key = names.join("/");
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    // A directory removed behind the server's back (another process, an admin's rm -r) keeps its
    // handle but takes no new names: a put under a recreated one would fail until the entry
    // expired. An inline fstat of our own descriptor (a few µs, no thread-pool hop) tells.
    if (entry.expires <= Date.now() || fstatSync(entry.fh.fd).nlink === 0) {
      this.drop(key, entry);
      return undefined;
    }
    return entry;
  }

  private ref(entry: Entry): DirRef {
    entry.refs++;
    let released = false;
    const base = `${PROC_FD}/${entry.fh.fd}`;
    return {
      names: entry.names,
      fh: entry.fh,
      path: base,
      at: (name) => `${base}/${name}`,
      sync: () => groupSync(entry),
      release: () => {
        if (released) return;
        released = true;
        unhold(entry);
      },
    };
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

function unhold(entry: Entry): void {
  entry.refs--;
  if (entry.dead && entry.refs === 0) void entry.fh.close().catch(() => {});
}

function reserved(client: string): FerryError {
  return new FerryError("EBADPATH", `path not allowed (reserved name): ${JSON.stringify(client)}`);
}

function tooManyLinks(client: string): FerryError {
  return new FerryError("EBADPATH", `path not allowed (too many symbolic links): ${JSON.stringify(client)}`);
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
