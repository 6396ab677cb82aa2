import { setMaxListeners } from "node:events";

/** How many calls may be in flight, and optionally how many bytes between them. */
export interface WindowLimit<T> {
  /** Calls in flight at most. */
  count: number;
  /**
   * Bytes in flight at most, each call weighing `sizeOf(item)` (capped at `bytes`, so a call
   * bigger than the budget still runs, alone).
   */
  bytes?: number;
  sizeOf?: (item: T) => number;
}

/**
 * Runs `fn` over `items` in order with at most `limit` calls in flight (a count, or a count and a
 * byte budget). The library pipelines concurrent calls on one session, so this keeps many small
 * transfers moving without unbounded memory. Items not yet started are dropped once `signal` is
 * aborted. `fn` must handle its own errors.
 */
export async function inWindow<T>(
  items: readonly T[],
  limit: number | WindowLimit<T>,
  fn: (item: T, index: number) => Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  const {
    count,
    bytes: budget = Number.POSITIVE_INFINITY,
    sizeOf,
  } = typeof limit === "number" ? { count: limit } : limit;
  // Every call in flight listens on the one signal; that is expected, not a leak.
  if (signal) setMaxListeners(Math.min(count, items.length) + 16, signal);
  const weightOf = (item: T) => (sizeOf ? Math.min(Math.max(sizeOf(item), 0), budget) : 0);
  let next = 0;
  let inFlight = 0;
  let waiting: (() => void)[] = [];
  const released = () => new Promise<void>((resolve) => waiting.push(resolve));
  const worker = async (): Promise<void> => {
    while (next < items.length && !signal?.aborted) {
      // The next item waits for room before anyone takes it: calls start in order.
      const weight = weightOf(items[next] as T);
      if (inFlight > 0 && inFlight + weight > budget) {
        await released();
        continue;
      }
      const index = next++;
      const item = items[index] as T;
      inFlight += weight;
      try {
        await fn(item, index);
      } finally {
        inFlight -= weight;
        const wake = waiting;
        waiting = [];
        for (const resolve of wake) resolve();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(count, items.length) }, worker));
}
