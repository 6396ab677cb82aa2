import { setMaxListeners } from "node:events";

/**
 * Runs `fn` over `items` with at most `limit` calls in flight. The library pipelines concurrent
 * calls on one session, so this keeps many small transfers moving without unbounded memory.
 * Items not yet started are dropped once `signal` is aborted. `fn` must handle its own errors.
 */
export async function inWindow<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  // Every call in flight listens on the one signal; that is expected, not a leak.
  if (signal) setMaxListeners(limit + 16, signal);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length && !signal?.aborted) {
      const index = next++;
      await fn(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
