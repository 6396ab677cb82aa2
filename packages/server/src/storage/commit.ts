import { link, lstat, open, rename, statfs, unlink } from "node:fs/promises";
import { FerryError } from "@ferry/protocol";
import { errnoOf } from "../fs-errors.js";

/**
 * Puts a verified staging file under its real name in one step. With `overwrite` a rename replaces
 * the target atomically; without it, link() fails if the name appeared meanwhile, so a file created
 * by someone else during the upload is never clobbered.
 */
export async function commitFile(staged: string, dest: string, overwrite: boolean): Promise<void> {
  if (overwrite) {
    await rename(staged, dest);
    return;
  }
  try {
    await link(staged, dest);
  } catch (err) {
    const errno = errnoOf(err);
    if (errno === "EEXIST") throw err;
    // Filesystems without hard links: check, then rename (a tiny window, documented).
    if (errno !== "EPERM" && errno !== "ENOTSUP" && errno !== "EOPNOTSUPP") throw err;
    const exists = await lstat(dest).then(
      () => true,
      () => false,
    );
    if (exists) throw Object.assign(new Error("exists"), { code: "EEXIST" });
    await rename(staged, dest);
    return;
  }
  await unlink(staged);
}

/** Makes a rename in `dir` durable. */
export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Refuses an upload that cannot fit, before a byte of it is sent. */
export async function assertSpace(root: string, bytes: number): Promise<void> {
  if (bytes <= 0) return;
  const fs = await statfs(root);
  const free = fs.bavail * fs.bsize;
  if (bytes > free) {
    throw new FerryError("ENOSPC", `not enough space: ${bytes} bytes needed, ${free} free`, {
      needed: bytes,
      free,
    });
  }
}
