import { linkSync, lstatSync, renameSync, type Stats } from "node:fs";
import { link, lstat, rename } from "node:fs/promises";
import { FerryError } from "@ferry/protocol";
import { errnoOf, fsError } from "../../fs-errors.js";

/** link() errors after which what the name holds decides (see linkRefused); the rest are final. */
const LOOK_AT_NAME = new Set(["EEXIST", "EPERM", "ENOTSUP", "EOPNOTSUPP"]);

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
      if (!LOOK_AT_NAME.has(errnoOf(err) ?? "")) throw err;
      const st = await lstat(dest).catch(() => null);
      linkRefused(err, st, client);
      await rename(staged, dest);
      return "moved";
    }
  } catch (err) {
    throw fsError(err, client);
  }
}

/**
 * {@link commitFile} with synchronous calls, for a small file (see SYNC_IO_MAX): the same steps and
 * outcomes, none of them a thread-pool hand-off.
 */
export function commitFileSync(
  staged: string,
  dest: string,
  overwrite: boolean,
  client: string,
): "moved" | "linked" {
  try {
    if (overwrite) {
      renameSync(staged, dest);
      return "moved";
    }
    try {
      linkSync(staged, dest);
      return "linked";
    } catch (err) {
      if (!LOOK_AT_NAME.has(errnoOf(err) ?? "")) throw err;
      let st: Stats | null = null;
      try {
        st = lstatSync(dest, { throwIfNoEntry: false }) ?? null;
      } catch {
        // as no entry: the error that counts is link's
      }
      linkRefused(err, st, client);
      renameSync(staged, dest);
      return "moved";
    }
  } catch (err) {
    throw fsError(err, client);
  }
}

/**
 * After link() failed with `err`, `st` being what the name holds now: throws unless the filesystem
 * has no hard links and the name is free, in which case the caller renames (a tiny window in which
 * a name created meanwhile would be replaced, documented).
 */
function linkRefused(err: unknown, st: Stats | null, client: string): void {
  const errno = errnoOf(err);
  if (errno === "EEXIST") {
    // A directory there is EISDIR, as rename (overwrite) reports it.
    if (st?.isDirectory()) throw isDir(client, err);
    throw err;
  }
  if (errno !== "EPERM" && errno !== "ENOTSUP" && errno !== "EOPNOTSUPP") throw err;
  if (st) throw new FerryError("EEXIST", `already exists: ${JSON.stringify(client)}`);
}

function isDir(client: string, cause: unknown): FerryError {
  return new FerryError("EISDIR", `is a directory: ${JSON.stringify(client)}`, {}, { cause });
}
