import type { Entry } from "@ferry/protocol";
import { FerryError } from "@ferry/protocol";
import { isSafeRemoteName, printable } from "../safe-names.js";
import type { FerrySession } from "../types.js";
import { inWindow } from "../window.js";
import type { PathFilter } from "./filter.js";
import type { Tree, TreeEntry } from "./plan.js";
import type { MirrorNote } from "./walk-local.js";

/** Directory listings in flight at once: one level of the tree goes out pipelined. */
export const LIST_WINDOW = 64;

export interface RemoteWalk {
  tree: Tree;
  notes: MirrorNote[];
  exists: boolean;
}

/** A remote path below `root` for a relative path: `/`-joined, as the protocol takes it. */
export function remotePath(root: string, rel: string): string {
  const base = root.endsWith("/") ? root.slice(0, -1) : root;
  return rel === "" ? root : `${base}/${rel}`;
}

/**
 * Reads a remote tree level by level, each level's listings pipelined on the one connection. Every
 * name the server sends is checked as `mget -r` checks it (isSafeRemoteName: no `/`, `..`, control
 * characters; CVE-2019-6111): an unsafe one is left out with a note, so it can never become a local
 * path nor be deleted. On the source side links and other non-files are left out with a note (the
 * server follows links for a get, but a link to a directory could lead the walk round in circles);
 * on the target side they are recorded as such. A missing root is an empty tree (`exists: false`),
 * unless it is the source; a root that is a file is ENOTDIR.
 */
export async function walkRemote(
  session: FerrySession,
  root: string,
  options: { source: boolean; filter?: PathFilter; signal?: AbortSignal },
): Promise<RemoteWalk> {
  const tree = new Map<string, TreeEntry>();
  const notes: MirrorNote[] = [];
  let top: Entry;
  try {
    top = await session.stat(root);
  } catch (err) {
    if ((err as { code?: string }).code === "ENOENT" && !options.source)
      return { tree, notes, exists: false };
    throw err;
  }
  if (top.type === "file" || top.type === "other") {
    throw new FerryError("ENOTDIR", `remote ${printable(root)} is not a directory`, { path: root });
  }
  let level = [""];
  while (level.length > 0) {
    if (options.signal?.aborted) throw new FerryError("EABORTED", "the mirror was interrupted");
    const next: string[] = [];
    await inWindow(level, LIST_WINDOW, async (relDir) => {
      for await (const e of session.listStream(remotePath(root, relDir))) {
        const rel = relDir === "" ? e.name : `${relDir}/${e.name}`;
        if (!isSafeRemoteName(e.name)) {
          const shown = printable(relDir === "" ? e.name : `${relDir}/${e.name}`);
          notes.push({ path: rel, message: `skipping an unsafe name from the server: ${shown}` });
          continue;
        }
        if (e.type === "dir") {
          tree.set(rel, { type: "dir", size: 0, mtime: e.mtime });
          if (options.filter?.(rel, true) !== false) next.push(rel);
        } else if (e.type === "file") {
          // The listing's cached hashes are in the session's alg (PROTOCOL.md §1.2).
          const hash = session.server.hash === "md5" ? e.md5 : e.hash;
          tree.set(rel, { type: "file", size: e.size, mtime: e.mtime, hash });
        } else if (options.source) {
          const what = e.type === "symlink" ? "a symbolic link" : "not a regular file";
          notes.push({ path: rel, message: `skipping ${printable(rel)}: ${what}` });
        } else {
          tree.set(rel, { type: e.type === "symlink" ? "link" : "other", size: 0, mtime: e.mtime });
        }
      }
    });
    level = next.sort();
  }
  return { tree, notes, exists: true };
}
