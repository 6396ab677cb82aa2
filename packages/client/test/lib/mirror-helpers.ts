import { createHash } from "node:crypto";
import { lstat, mkdir, readdir, readFile, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";

/** A fixed past date for planted files, so a "changed" mtime is never an accident of the clock. */
export const PAST = 1_600_000_000_123;

export interface Shape {
  type: "file" | "dir" | "link";
  size?: number;
  md5?: string;
  mtime?: number;
}

/**
 * Writes a tree: a key ending in `/` is a directory, any other a file with that text (a number: that
 * many pseudo-random bytes). Files are dated PAST + their index (ms) so that every mtime differs.
 */
export async function writeTree(root: string, spec: Record<string, string | number>): Promise<void> {
  await mkdir(root, { recursive: true });
  let i = 0;
  for (const [rel, body] of Object.entries(spec)) {
    const full = join(root, rel);
    if (rel.endsWith("/")) {
      await mkdir(full, { recursive: true });
      continue;
    }
    await mkdir(join(full, ".."), { recursive: true });
    const bytes = typeof body === "number" ? pseudoRandom(body, rel) : Buffer.from(body, "utf8");
    await writeFile(full, bytes);
    const when = (PAST + i++ * 1001) / 1000;
    await utimes(full, when, when);
  }
}

function pseudoRandom(size: number, seed: string): Buffer {
  const out = Buffer.allocUnsafe(size);
  let block = createHash("sha256").update(seed).digest();
  for (let at = 0; at < size; at += block.length) {
    block.copy(out, at, 0, Math.min(block.length, size - at));
    block = createHash("sha256").update(block).digest();
  }
  return out;
}

/**
 * What a tree holds, for comparing two: relative path → type, size, md5 and mtime (ms) of every
 * entry, links as links. `mtimes: false` leaves mtimes out (directories never keep theirs).
 */
export async function readTree(root: string): Promise<Record<string, Shape>> {
  const out: Record<string, Shape> = {};
  const walk = async (dir: string, rel: string): Promise<void> => {
    const names = (await readdir(dir)).sort();
    for (const name of names) {
      if (name === ".ferry-staging") continue;
      const full = join(dir, name);
      const r = rel === "" ? name : `${rel}/${name}`;
      const st = await lstat(full);
      if (st.isSymbolicLink()) out[r] = { type: "link" };
      else if (st.isDirectory()) {
        out[r] = { type: "dir" };
        await walk(full, r);
      } else {
        const md5 = createHash("md5")
          .update(await readFile(full))
          .digest("hex");
        out[r] = { type: "file", size: st.size, md5, mtime: Math.floor(st.mtimeMs) };
      }
    }
  };
  await walk(root, "");
  return out;
}
