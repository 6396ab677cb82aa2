import { type Stats, statSync } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import type { GlobEntry } from "../glob.js";

/**
 * A local stat, null when nothing is there. Synchronous: one syscall costs far less than a round trip
 * through libuv's thread pool, and mget/mput make one per file.
 */
export function localStatOrNull(p: string): Stats | null {
  return statSync(p, { throwIfNoEntry: false }) ?? null;
}

/** A local directory in the same shape as a remote listing (symlinks followed for the type). */
export async function localList(dir: string): Promise<GlobEntry[]> {
  const dirents = await fs.readdir(dir, { withFileTypes: true });
  const out: GlobEntry[] = [];
  for (const d of dirents) {
    let type = d.isDirectory() ? "dir" : d.isFile() ? "file" : "other";
    if (d.isSymbolicLink()) {
      const st = localStatOrNull(path.join(dir, d.name));
      type = st?.isDirectory() ? "dir" : st?.isFile() ? "file" : "other";
    }
    out.push({ name: d.name, type });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
