import { fstatSync, type Stats } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { FerryError, sameFileVersion } from "@ferry/protocol";

function changed(client: string): FerryError {
  return new FerryError(
    "ECHANGED",
    `the file changed while it was being sent; try again: ${JSON.stringify(client)}`,
    { path: client },
  );
}

/**
 * Throws ECHANGED unless the open file is still the version `opened` (its stat at open) describes:
 * called after the last read and before the bytes are vouched for with an md5 (see sameFileVersion).
 */
export async function assertUnchanged(fh: FileHandle, opened: Stats, client: string): Promise<void> {
  if (!sameFileVersion(opened, await fh.stat())) throw changed(client);
}

/**
 * The same check with an inline fstat: for a small file's reply, which waits on it, one thread-pool
 * round trip costs more than the fstat of a descriptor already open (see stageSmallPut).
 */
export function assertUnchangedInline(fh: FileHandle, opened: Stats, client: string): void {
  if (!sameFileVersion(opened, fstatSync(fh.fd))) throw changed(client);
}
