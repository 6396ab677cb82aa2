import type { Stats } from "node:fs";
import { constants } from "node:fs";
import { type FileHandle, open, readlink, realpath } from "node:fs/promises";
import { FerryError } from "@ferry/protocol";
import type { Sandbox } from "./sandbox.js";

// O_NONBLOCK: opening a FIFO planted in the root must not block a thread waiting for a writer.
const READ_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK;

/**
 * Opens a file for reading and then checks the real path of what was actually opened (Linux:
 * /proc/self/fd), so a symlink swapped in between a check and the open still cannot lead out of the
 * root. Returns the handle, that real path and the opened file's stat (taken at the same time as the
 * check; nothing is read before the check has passed).
 */
export async function openForRead(
  sandbox: Sandbox,
  abs: string,
  client: string,
): Promise<{ fh: FileHandle; real: string; st: Stats }> {
  const fh = await open(abs, READ_FLAGS);
  try {
    const [real, st] = await Promise.all([
      readlink(`/proc/self/fd/${fh.fd}`).catch(() => realpath(abs)),
      fh.stat(),
    ]);
    if (!sandbox.contains(real)) {
      throw new FerryError(
        "EBADPATH",
        `path not allowed (resolves outside the root): ${JSON.stringify(client)}`,
      );
    }
    return { fh, real, st };
  } catch (err) {
    await fh.close();
    throw err;
  }
}
