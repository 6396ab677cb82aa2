import { createRunningHash, type RunningHash } from "@ferry/protocol";

/**
 * Files at least this big hash on a worker thread: below it the worker's start-up costs more than it
 * saves, and a remote server that is idle while we hash lets the worker's second core pay off.
 */
export const OFF_THREAD_HASH_MIN = 16 * 1024 * 1024;

/** The running md5 of one transfer of `size` bytes. */
export function transferHash(size: number): RunningHash {
  return createRunningHash(size, OFF_THREAD_HASH_MIN);
}
