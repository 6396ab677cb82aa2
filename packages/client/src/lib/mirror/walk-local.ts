import type { Dirent, Stats } from "node:fs";
import { lstat, readdir, realpath, stat } from "node:fs/promises";
import path from "node:path";
import { FerryError, mtimeOf } from "@ferry/protocol";
import { localError } from "../errors.js";
import { printable } from "../safe-names.js";
import type { PathFilter } from "./filter.js";
import type { TreeEntry } from "./plan.js";

/** lstat/stat calls in flight at once while a directory is read. */
const STAT_WINDOW = 64;

/** Something a walk left out, for people: a link not followed, a name that cannot be sent. */
export interface MirrorNote {
  path: string;
  message: string;
}

export interface LocalWalk {
  tree: Map<string, TreeEntry>;
  notes: MirrorNote[];
  /** False when the root does not exist (a target to be created). */
  exists: boolean;
}

export interface LocalWalkOptions {
  /**
   * The source side: links are skipped with a note, or followed with `followLinks` as long as they
   * lead to a place inside the root (-L); FIFOs, sockets and devices are skipped with a note. The
   * target side (false) records links and the rest as such, never following them.
   */
  source: boolean;
  followLinks?: boolean;
  /** Directories it says no to are recorded but not read (an excluded node_modules is never walked). */
  filter?: PathFilter;
}

/**
 * Reads a local tree for a mirror: every file and directory below `root` with its size and mtime,
 * keyed by `/`-joined relative paths. A missing root is an empty tree (`exists: false`), unless it is
 * the source.
 */
export async function walkLocal(root: string, options: LocalWalkOptions): Promise<LocalWalk> {
  const tree = new Map<string, TreeEntry>();
  const notes: MirrorNote[] = [];
  let top: Stats;
  try {
    top = await stat(root);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT" && !options.source) {
      return { tree, notes, exists: false };
    }
    throw localError(err, root);
  }
  if (!top.isDirectory()) {
    throw new FerryError("ENOTDIR", `local ${printable(root)} is not a directory`, {
      local: true,
      path: root,
    });
  }
  const realRoot = await realpath(root);
  const follow = options.source && options.followLinks === true;
  const note = (rel: string, message: string) => notes.push({ path: rel, message });

  // `above`: the directories this one is in, by device and inode. A followed link to one of them
  // is a loop, not more tree.
  const walkDir = async (dir: string, relDir: string, above: ReadonlySet<string>): Promise<void> => {
    let dirents: Dirent[];
    try {
      dirents = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      throw localError(err, dir);
    }
    const subdirs: [string, string, string][] = [];
    for (let i = 0; i < dirents.length; i += STAT_WINDOW) {
      const batch = dirents.slice(i, i + STAT_WINDOW);
      await Promise.all(
        batch.map(async (d) => {
          const full = path.join(dir, d.name);
          const rel = relDir === "" ? d.name : `${relDir}/${d.name}`;
          const st = await lstat(full).catch(() => null);
          if (st === null) return; // gone since the readdir
          if (st.isSymbolicLink()) {
            if (!options.source) {
              tree.set(rel, entryOf("link", st));
              return;
            }
            if (!follow) {
              note(rel, `skipping ${printable(rel)}: a symbolic link (-L follows links inside the source)`);
              return;
            }
            const target = await followLink(full, realRoot);
            if (typeof target === "string") {
              note(rel, `skipping ${printable(rel)}: ${target}`);
              return;
            }
            if (target.isDirectory()) {
              const key = `${target.dev}:${target.ino}`;
              if (above.has(key)) {
                note(rel, `skipping ${printable(rel)}: a link to a directory it is in (a loop)`);
                return;
              }
              tree.set(rel, entryOf("dir", target));
              if (options.filter?.(rel, true) !== false) subdirs.push([full, rel, key]);
              return;
            }
            if (target.isFile()) tree.set(rel, entryOf("file", target));
            else note(rel, `skipping ${printable(rel)}: a link to something that is not a regular file`);
            return;
          }
          if (st.isDirectory()) {
            tree.set(rel, entryOf("dir", st));
            if (options.filter?.(rel, true) !== false) subdirs.push([full, rel, `${st.dev}:${st.ino}`]);
          } else if (st.isFile()) {
            tree.set(rel, entryOf("file", st));
          } else if (options.source) {
            note(rel, `skipping ${printable(rel)}: not a regular file`);
          } else {
            tree.set(rel, entryOf("other", st));
          }
        }),
      );
    }
    for (const [full, rel, key] of subdirs) await walkDir(full, rel, new Set([...above, key]));
  };

  await walkDir(root, "", new Set([`${top.dev}:${top.ino}`]));
  return { tree, notes, exists: true };
}

function entryOf(type: TreeEntry["type"], st: Stats): TreeEntry {
  return { type, size: type === "file" ? st.size : 0, mtime: mtimeOf(st) };
}

/** Where a link leads, when that is inside `realRoot` and exists; otherwise why it is skipped. */
async function followLink(link: string, realRoot: string): Promise<Stats | string> {
  let real: string;
  try {
    real = await realpath(link);
  } catch {
    return "a link that leads nowhere";
  }
  const rel = path.relative(realRoot, real);
  if (rel.startsWith(`..${path.sep}`) || rel === ".." || path.isAbsolute(rel)) {
    return "a link that leads outside the source";
  }
  return stat(real).catch(() => "a link that leads nowhere");
}
