import { link, lstat, rename } from "node:fs/promises";
import { errnoOf } from "../fs-errors.js";

/**
 * Puts a verified staging file under its real name in one step. With `overwrite` a rename replaces
 * the target atomically; without it, link() fails if the name appeared meanwhile, so a file created
 * by someone else during the upload is never clobbered; either way a directory under the name is
 * EISDIR and an existing name without `overwrite` is EEXIST. "linked": the staging name still exists and
 * the caller unlinks it (alongside its other work, it is not part of the commit).
 */
export async function commitFile(
  staged: string,
  dest: string,
  overwrite: boolean,
): Promise<"moved" | "linked"> {
  if (overwrite) {
    await rename(staged, dest);
    return "moved";
  }
  try {
    await link(staged, dest);
    return "linked";
  } catch (err) {
    const errno = errnoOf(err);
    if (errno === "EEXIST") {
      // A directory there is EISDIR, as rename (overwrite) reports it.
      const st = await lstat(dest).catch(() => null);
      if (st?.isDirectory()) throw Object.assign(new Error("is a directory"), { code: "EISDIR" });
      throw err;
    }
    // Filesystems without hard links: check, then rename (a tiny window, documented).
    if (errno !== "EPERM" && errno !== "ENOTSUP" && errno !== "EOPNOTSUPP") throw err;
    const exists = await lstat(dest).then(
      () => true,
      () => false,
    );
    if (exists) throw Object.assign(new Error("exists"), { code: "EEXIST" });
    await rename(staged, dest);
    return "moved";
  }
}
