import type { Stats } from "node:fs";
import { constants } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { FerryError } from "@ferry/protocol";
import { errnoOf, fsError } from "../../fs-errors.js";
import type { DirHandles } from "./dir-handles.js";
import type { Resolved } from "./sandbox.js";

// O_NONBLOCK: opening a FIFO planted in the root must not block a thread waiting for a writer.
// O_NOFOLLOW: the final name was looked at by DirHandles.follow; a link swapped in since is refused.
const READ_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW;
const MAX_RETRIES = 8;

/**
 * Opens the file a path names for reading, following links only inside the root (DirHandles.follow)
 * and opening the final name through its directory's handle. Returns the handle, the file's names
 * below the root ("/"-joined, the checksum-cache key) and its stat, taken from the open descriptor.
 */
export async function openForRead(
  dirs: DirHandles,
  r: Resolved,
): Promise<{ fh: FileHandle; real: string; st: Stats }> {
  for (let attempt = 0; ; attempt++) {
    const found = await dirs.follow(r);
    try {
      if (found.name === null) throw new FerryError("EISDIR", "the root is a directory");
      const fh = await open(found.dir.at(found.name), READ_FLAGS).catch((err) => {
        if (errnoOf(err) === "ELOOP" && attempt < MAX_RETRIES) return null;
        throw fsError(err, r.client);
      });
      if (!fh) continue;
      try {
        return { fh, real: found.names.join("/"), st: await fh.stat() };
      } catch (err) {
        await fh.close();
        throw fsError(err, r.client);
      }
    } finally {
      found.dir.release();
    }
  }
}
