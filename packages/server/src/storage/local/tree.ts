import type { Stats } from "node:fs";
import { constants } from "node:fs";
import { lstat, mkdir, open, opendir, rename, rmdir, unlink } from "node:fs/promises";
import { FerryError } from "@ferry/protocol";
import { errnoOf, fsError } from "../../fs-errors.js";
import type { DirHandles, DirRef } from "./dir-handles.js";
import type { Resolved } from "./sandbox.js";

/** Names read from a directory before they are removed, when a tree is deleted. */
const REMOVE_BATCH = 1_024;
/** A tree deeper than this is refused rather than holding a descriptor per level without end. */
const MAX_REMOVE_DEPTH = 256;
const SUBDIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;

/**
 * The operations on names of the local tree, each acting on the final name through the handle of
 * its directory (see DirHandles), never through a path string the kernel would resolve again.
 */

/** lstat of the name itself (a symlink is a symlink); with a trailing `/`, the directory it names. */
export async function statName(
  dirs: DirHandles,
  r: Resolved,
): Promise<{ st: Stats; names: readonly string[] }> {
  if (r.isRoot || r.dirOnly) {
    const found = await dirs.follow(r);
    try {
      if (!found.st.isDirectory()) throw notDir(r);
      return { st: found.st, names: found.name === null ? [] : found.names };
    } finally {
      found.dir.release();
    }
  }
  const { dir, name, names } = await dirs.parentOf(r);
  try {
    return { st: await lstat(dir.at(name)), names };
  } catch (err) {
    throw fsError(err, r.client);
  } finally {
    dir.release();
  }
}

/** Creates one directory (its parent must exist), or with `parents` every missing one on the way. */
export async function makeDir(dirs: DirHandles, r: Resolved, parents: boolean): Promise<void> {
  if (parents) {
    // A file where the directory should be: EEXIST for the last name, as mkdir(2), ENOTDIR above it.
    const made = await dirs.acquire(r.names.slice(0, -1), r.client, true);
    try {
      if (r.isRoot) return;
      await mkdir(made.at(r.names[r.names.length - 1] as string)).catch((err) => {
        if (errnoOf(err) !== "EEXIST") throw err;
      });
    } catch (err) {
      throw fsError(err, r.client);
    } finally {
      made.release();
    }
    // Exists now: as a directory (possibly through a link inside the root), or it is EEXIST.
    const dir = await dirs.acquire(r.names, r.client, true).catch((err) => {
      if (err instanceof FerryError && err.code === "ENOTDIR") {
        throw new FerryError("EEXIST", `already exists and is not a directory: ${JSON.stringify(r.client)}`);
      }
      throw err;
    });
    dir.release();
    return;
  }
  if (r.isRoot) throw new FerryError("EEXIST", "the root exists");
  const { dir, name } = await dirs.parentOf(r);
  try {
    await mkdir(dir.at(name));
  } catch (err) {
    throw fsError(err, r.client);
  } finally {
    dir.release();
  }
}

/** Regular files removed (or replaced) by a change, and their bytes: what a quota gets back. */
export interface Removed {
  bytes: number;
  files: number;
}

function tallyFile(removed: Removed, st: Stats): void {
  if (!st.isFile()) return;
  removed.bytes += st.size;
  removed.files += 1;
}

/**
 * Removes the name itself: a symlink is unlinked, never followed. `recursive` removes a directory's
 * tree through handles opened without following links, so a directory swapped for a link midway is
 * unlinked as a link, and nothing it points to is touched. Returns whether a plain file was removed;
 * `removed` is told of every regular file as it goes, so it is right even when a tree fails midway.
 */
export async function removeName(
  dirs: DirHandles,
  r: Resolved,
  recursive: boolean,
  removed: Removed = { bytes: 0, files: 0 },
): Promise<"file" | "other"> {
  if (r.isRoot) throw new FerryError("EBADPATH", "the root cannot be deleted");
  const { dir, name } = await dirs.parentOf(r);
  try {
    const st = await lstat(dir.at(name));
    if (r.dirOnly && !st.isDirectory()) throw notDir(r);
    if (!st.isDirectory()) {
      await unlink(dir.at(name));
      tallyFile(removed, st);
      return st.isFile() ? "file" : "other";
    }
    if (recursive) await removeTree(dir, name, 0, removed);
    else await rmdir(dir.at(name));
    return "other";
  } catch (err) {
    throw fsError(err, r.client);
  } finally {
    dir.release();
  }
}

async function removeTree(
  parent: Pick<DirRef, "at">,
  name: string,
  depth: number,
  removed: Removed,
): Promise<void> {
  if (depth > MAX_REMOVE_DEPTH)
    throw new FerryError("EINTERNAL", `tree deeper than ${MAX_REMOVE_DEPTH} levels`);
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(parent.at(name), SUBDIR_FLAGS);
  } catch (err) {
    // Swapped for a link or a file since we looked: remove the name itself, follow nothing.
    const errno = errnoOf(err);
    if (errno === "ENOTDIR" || errno === "ELOOP") return unlink(parent.at(name));
    if (errno === "ENOENT") return;
    throw err;
  }
  try {
    const self = { at: (n: string) => `/proc/self/fd/${fh.fd}/${n}` };
    for (;;) {
      const names = await readBatch(`/proc/self/fd/${fh.fd}`);
      if (names.length === 0) break;
      for (const child of names) {
        const st = await lstat(self.at(child)).catch((err) =>
          errnoOf(err) === "ENOENT" ? null : Promise.reject(err),
        );
        if (!st) continue;
        if (st.isDirectory()) await removeTree(self, child, depth + 1, removed);
        else {
          const gone = await unlink(self.at(child)).then(
            () => true,
            (err) => (errnoOf(err) === "ENOENT" ? false : Promise.reject(err)),
          );
          if (gone) tallyFile(removed, st);
        }
      }
    }
  } finally {
    await fh.close();
  }
  await rmdir(parent.at(name));
}

/** Up to {@link REMOVE_BATCH} names of a directory (read afresh each time, as entries go). */
async function readBatch(dirPath: string): Promise<string[]> {
  const names: string[] = [];
  const handle = await opendir(dirPath, { bufferSize: 256 });
  try {
    for await (const dirent of handle) {
      names.push(dirent.name);
      if (names.length >= REMOVE_BATCH) break;
    }
  } finally {
    await handle.close().catch(() => {});
  }
  return names;
}

/**
 * Renames the name itself (a symlink moves as a link). Onto itself is a no-op; without `overwrite`
 * an existing target is EEXIST (checked just before: a name created in between is replaced, as
 * Node offers no renameat2(RENAME_NOREPLACE)); the kernel decides the rest (EISDIR, ENOTDIR,
 * ENOTEMPTY, a directory into itself). `replaced` is told of a regular file the rename replaced.
 */
export async function renameName(
  dirs: DirHandles,
  from: Resolved,
  to: Resolved,
  overwrite: boolean,
  replaced: Removed = { bytes: 0, files: 0 },
): Promise<void> {
  if (from.isRoot || to.isRoot) throw new FerryError("EBADPATH", "the root cannot be renamed or replaced");
  const src = await dirs.parentOf(from);
  try {
    const dst = await dirs.parentOf(to);
    try {
      const st = await lstat(src.dir.at(src.name)).catch((err) => {
        throw fsError(err, from.client);
      });
      if ((from.dirOnly || to.dirOnly) && !st.isDirectory()) throw notDir(from);
      if (src.names.join("/") === dst.names.join("/")) return;
      const existing = await lstat(dst.dir.at(dst.name)).catch((err) =>
        errnoOf(err) === "ENOENT" ? null : Promise.reject(fsError(err, to.client)),
      );
      if (existing && !overwrite)
        throw new FerryError("EEXIST", `already exists: ${JSON.stringify(to.client)}`);
      await rename(src.dir.at(src.name), dst.dir.at(dst.name)).catch((err) => {
        throw fsError(err, to.client);
      });
      // Two links to one file: rename(2) does nothing, and nothing was replaced.
      if (existing && !(existing.ino === st.ino && existing.dev === st.dev)) tallyFile(replaced, existing);
    } finally {
      dst.dir.release();
    }
  } finally {
    src.dir.release();
  }
}

function notDir(r: Resolved): FerryError {
  return new FerryError("ENOTDIR", `not a directory: ${JSON.stringify(r.client)}`);
}
