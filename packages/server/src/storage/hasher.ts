import { createRunningHash, type HashAlgorithm, type RunningHash } from "@ferry/protocol";

/** Transfers at least this big may hash on a worker thread, so md5 and I/O use two cores. */
export const OFF_THREAD_MIN_BYTES = 32 * 1024 * 1024;

/** The running hash of one transfer of `totalBytes`: on a worker thread when allowed and worth it. */
export function transferHash(totalBytes: number, thread: boolean, alg: HashAlgorithm = "md5"): RunningHash {
  return createRunningHash(totalBytes, thread ? OFF_THREAD_MIN_BYTES : null, alg);
}

/** Hashes a chunk, waiting while the worker (if any) is behind. */
export async function hashChunk(hash: RunningHash, chunk: Buffer): Promise<void> {
  if (!hash.update(chunk)) await hash.whenWritable();
}
