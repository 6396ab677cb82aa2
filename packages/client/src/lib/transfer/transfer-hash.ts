import {
  createDigest,
  createDigestNow,
  createRunningHash,
  type HashAlgorithm,
  type RunningHash,
} from "@ferry/protocol";

/**
 * Files at least this big hash on a worker thread: below it the worker's start-up costs more than it
 * saves, and a remote server that is idle while we hash lets the worker's second core pay off.
 */
export const OFF_THREAD_HASH_MIN = 16 * 1024 * 1024;

/** The running hash in `alg` of one transfer of `size` bytes. */
export function transferHash(size: number, alg: HashAlgorithm): RunningHash {
  return createRunningHash(size, OFF_THREAD_HASH_MIN, alg);
}

/** The hash of bytes in hand: without waiting where a digest is at hand (always, but for a busy xxh128). */
export async function hashOfBytes(alg: HashAlgorithm, bytes: Uint8Array): Promise<string> {
  const digest = createDigestNow(alg) ?? (await createDigest(alg));
  return digest.update(bytes).digest();
}
