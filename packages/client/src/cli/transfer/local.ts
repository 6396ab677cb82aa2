import type { Stats } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import type { GlobEntry } from "../glob.js";

export async function statOrNull(p: string): Promise<Stats | null> {
  try {
    return await fs.stat(p);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
}

/** A local directory in the same shape as a remote listing (symlinks followed for the type). */
export async function localList(dir: string): Promise<GlobEntry[]> {
  const dirents = await fs.readdir(dir, { withFileTypes: true });
  const out: GlobEntry[] = [];
  for (const d of dirents) {
    let type = d.isDirectory() ? "dir" : d.isFile() ? "file" : "other";
    if (d.isSymbolicLink()) {
      const st = await statOrNull(path.join(dir, d.name));
      type = st?.isDirectory() ? "dir" : st?.isFile() ? "file" : "other";
    }
    out.push({ name: d.name, type });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
