import { fstatSync, type Stats } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import type { RunningHash } from "@ferry/protocol";
import { FerryError, sameFileVersion } from "@ferry/protocol";
import { localError } from "../errors.js";

/**
 * Files up to this size are read and written with synchronous calls on the main thread. Each call
 * through libuv's thread pool costs a cross-thread wake-up both ways (≥ 100 µs of CPU on these VMs,
 * most of a 4 KiB file's cost when six of them go to one file), while a synchronous call on a file
 * this small takes a few µs and blocks the event loop for no longer than that.
 */
export const SYNC_IO_MAX = 64 * 1024;

/** Local reads use big blocks: at 8 KiB a transfer costs about three times the CPU of 1 MiB blocks. */
export const CHUNK_SIZE = 1024 * 1024;

/**
 * Reads bytes [start, end) of an open file in big blocks, handing each to `onChunk` while the next
 * block is already being read. Two buffers are used in turn for the whole range (a fresh 1 MiB per
 * block was garbage that V8 freed late, ~30 MB of a client's peak), so the consumer must be done
 * with a chunk's memory when its returned promise resolves (or when it returns, if it returns
 * nothing): a socket write must have completed, not merely been queued. Returns the number of bytes
 * read; fewer than asked means the file shrank.
 */
export async function readRange(
  file: FileHandle,
  start: number,
  end: number,
  onChunk: (chunk: Buffer) => void | Promise<void>,
  signal?: AbortSignal,
): Promise<number> {
  if (start >= end) return 0;
  const blockSize = Math.min(CHUNK_SIZE, end - start);
  const buffers = [Buffer.allocUnsafeSlow(blockSize), Buffer.allocUnsafeSlow(blockSize)] as const;
  let turn = 0;
  const readAt = async (position: number): Promise<Buffer> => {
    const buffer = buffers[turn] as Buffer;
    turn ^= 1;
    const { bytesRead } = await file.read(buffer, 0, Math.min(blockSize, end - position), position);
    return buffer.subarray(0, bytesRead);
  };
  let position = start;
  let next: Promise<Buffer> | null = readAt(position);
  try {
    while (next !== null) {
      const chunk = await next;
      next = null;
      if (chunk.length === 0 || signal?.aborted) break;
      position += chunk.length;
      // The other buffer is free: its chunk was consumed before this one was read into.
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

/**
 * Throws ECHANGED unless the open file is still the version `opened` (its stat when it was opened)
 * describes. Called after the last read and before the md5 of what was read goes out: bytes read
 * across a change may mix two versions, and their md5 would vouch for a file that never existed.
 */
export async function assertUnchanged(file: FileHandle, opened: Stats, path: string): Promise<void> {
  const now = await file.stat().catch((err) => {
    throw localError(err, path);
  });
  assertSameVersion(opened, now, path);
}

/** assertUnchanged for a file opened with the synchronous calls (a descriptor). */
export function assertUnchangedSync(fd: number, opened: Stats, path: string): void {
  let now: Stats;
  try {
    now = fstatSync(fd);
  } catch (err) {
    throw localError(err, path);
  }
  assertSameVersion(opened, now, path);
}

function assertSameVersion(opened: Stats, now: Stats, path: string): void {
  if (!sameFileVersion(opened, now)) {
    throw new FerryError("ECHANGED", `local file ${path} changed while it was being read; try again`, {
      local: true,
      path,
    });
  }
}
