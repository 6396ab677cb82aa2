import type { FileHandle } from "node:fs/promises";
import { FerryError } from "@ferry/protocol";
import type { RunningHash } from "./running-hash.js";

/** Local reads use big blocks: at 8 KiB a transfer costs about three times the CPU of 1 MiB blocks. */
export const CHUNK_SIZE = 1024 * 1024;

/**
 * Reads bytes [start, end) of an open file in big blocks, handing each to `onChunk` (which may wait,
 * for backpressure) while the next block is already being read. Each block is a fresh buffer, so a
 * consumer may keep it (a socket write in flight). Returns the number of bytes read; fewer than asked
 * means the file shrank.
 */
export async function readRange(
  file: FileHandle,
  start: number,
  end: number,
  onChunk: (chunk: Buffer) => void | Promise<void>,
  signal?: AbortSignal,
): Promise<number> {
  const readAt = async (position: number): Promise<Buffer> => {
    const buffer = Buffer.allocUnsafeSlow(Math.min(CHUNK_SIZE, end - position));
    const { bytesRead } = await file.read(buffer, 0, buffer.length, position);
    return bytesRead < buffer.length ? buffer.subarray(0, bytesRead) : buffer;
  };
  let position = start;
  let next: Promise<Buffer> | null = position < end ? readAt(position) : null;
  try {
    while (next !== null) {
      const chunk = await next;
      next = null;
      if (chunk.length === 0 || signal?.aborted) break;
      position += chunk.length;
      if (position < end) next = readAt(position);
      const waiting = onChunk(chunk);
      if (waiting) await waiting;
    }
  } finally {
    // A read still in flight when we stop early must not become an unhandled rejection.
    next?.catch(() => {});
  }
  return position - start;
}

/** Feeds bytes [0, length) of a file into `hash`; returns how many there were. */
export async function hashPrefix(
  file: FileHandle,
  length: number,
  hash: RunningHash,
  signal?: AbortSignal,
): Promise<number> {
  return readRange(
    file,
    0,
    length,
    (chunk) => (hash.update(chunk) ? undefined : hash.whenWritable()),
    signal,
  );
}

export function shrankError(path: string): FerryError {
  return new FerryError("ESIZE", `local file ${path} shrank while it was being sent`, { local: true, path });
}
