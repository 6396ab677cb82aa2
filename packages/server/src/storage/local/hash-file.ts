import type { FileHandle } from "node:fs/promises";
import { FerryError, type RunningHash } from "@ferry/protocol";
import { hashChunk } from "../hasher.js";

export const HASH_BLOCK = 1024 * 1024;
/** What hashing one file holds in memory at most (its two buffers). */
export const HASH_BUFFER_BYTES = 2 * HASH_BLOCK;

/**
 * Feeds bytes [0, size) of an open file into `hash` in 1 MiB reads through two buffers used in turn
 * (the next read runs while the current block is hashed), so hashing a file of any size holds 2 MiB.
 * RunningHash copies what it keeps, so a buffer is free again once its block is hashed. A file that
 * shrinks under us is ESIZE, like a get of it.
 */
export async function hashFile(fh: FileHandle, size: number, hash: RunningHash): Promise<void> {
  if (size === 0) return;
  const block = Math.min(HASH_BLOCK, size);
  const buffers = [Buffer.allocUnsafe(block), Buffer.allocUnsafe(block)] as const;
  let turn = 0;
  const readAt = async (at: number): Promise<Buffer> => {
    const buf = buffers[turn] as Buffer;
    turn ^= 1;
    const want = Math.min(block, size - at);
    let got = 0;
    while (got < want) {
      const { bytesRead } = await fh.read(buf, got, want - got, at + got);
      if (bytesRead === 0) throw new FerryError("ESIZE", "the file shrank while it was being read");
      got += bytesRead;
    }
    return buf.subarray(0, want);
  };
  let pos = 0;
  let next: Promise<Buffer> | null = readAt(0);
  try {
    while (next) {
      const chunk = await next;
      pos += chunk.length;
      next = pos < size ? readAt(pos) : null;
      await hashChunk(hash, chunk);
    }
  } finally {
    // A read ahead still in flight when hashing fails must not become an unhandled rejection.
    next?.catch(() => {});
  }
}
