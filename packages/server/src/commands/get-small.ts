import { createHash } from "node:crypto";
import type { FileHandle } from "node:fs/promises";
import { FerryError } from "@ferry/protocol";

/** Files up to this size are read whole and sent with their reply in one socket write. */
export const SMALL_GET_MAX = 1024 * 1024;

export function md5Hex(bytes: Uint8Array): string {
  return createHash("md5").update(bytes).digest("hex");
}

/** Exactly `size` bytes from the start of the file (one read unless the kernel returns fewer). */
export async function readWhole(fh: FileHandle, size: number): Promise<Buffer> {
  const bytes = Buffer.allocUnsafe(size);
  let got = 0;
  while (got < size) {
    const { bytesRead } = await fh.read(bytes, got, size - got, got);
    if (bytesRead === 0) throw new FerryError("ESIZE", "the file shrank while it was being read");
    got += bytesRead;
  }
  return bytes;
}
