import { link, lstat, rename } from "node:fs/promises";
import { FerryError } from "@ferry/protocol";
import { errnoOf, fsError } from "../../fs-errors.js";

/**
 * Puts a verified staging file under its real name in one step. With `overwrite` a rename replaces
 * the target atomically; without it, link() fails if the name appeared meanwhile, so a file created
 * by someone else during the upload is never clobbered; either way a directory under the name is
 * EISDIR and an existing name without `overwrite` is EEXIST. "linked": the staging name still exists and
 * the caller unlinks it (alongside its other work, it is not part of the commit). Errors are
 * FerryErrors naming `client`.
 */
export async function commitFile(
  staged: string,
  dest: string,
  overwrite: boolean,
  client: string,
): Promise<"moved" | "linked"> {
  try {
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
        if (st?.isDirectory()) throw isDir(client, err);
        throw err;
      }
      // Filesystems without hard links: check, then rename (a tiny window, documented).
      if (errno !== "EPERM" && errno !== "ENOTSUP" && errno !== "EOPNOTSUPP") throw err;
      const exists = await lstat(dest).then(
        () => true,
        () => false,
      );
      if (exists) throw new FerryError("EEXIST", `already exists: ${JSON.stringify(client)}`);
      await rename(staged, dest);
      return "moved";
    }
  } catch (err) {
    throw fsError(err, client);
  }
}

function isDir(client: string, cause: unknown): FerryError {
  return new FerryError("EISDIR", `is a directory: ${JSON.stringify(client)}`, {}, { cause });
}
