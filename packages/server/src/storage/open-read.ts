import { constants } from "node:fs";
import { type FileHandle, open, readlink, realpath } from "node:fs/promises";
import { FerryError } from "@ferry/protocol";
import type { Sandbox } from "./sandbox.js";

// O_NONBLOCK: opening a FIFO planted in the root must not block a thread waiting for a writer.
const READ_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK;

/**
 * Opens a file for reading and then checks the real path of what was actually opened (Linux:
 * /proc/self/fd), so a symlink swapped in between a check and the open still cannot lead out of the
 * root. Returns the handle and that real path.
 */
export async function openForRead(
  sandbox: Sandbox,
  abs: string,
  client: string,
): Promise<{ fh: FileHandle; real: string }> {
  const fh = await open(abs, READ_FLAGS);
  try {
    const real = await readlink(`/proc/self/fd/${fh.fd}`).catch(() => realpath(abs));
    if (!sandbox.contains(real)) {
      throw new FerryError(
        "EBADPATH",
        `path not allowed (resolves outside the root): ${JSON.stringify(client)}`,
      );
    }
    return { fh, real };
  } catch (err) {
    await fh.close();
    throw err;
  }
}
