/** Where a bucket reads the time and how it waits: the real clock unless a test brings its own. */
export interface RateClock {
  /** Milliseconds, monotonic. */
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const REAL_CLOCK: RateClock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** A bucket holds this long's worth of bytes: bursts stay short, the rate stays smooth. */
export const RATE_BURST_MS = 50;
/** ... but never less than this, so a very low rate still moves whole socket reads' worth at a time. */
export const RATE_MIN_BURST = 16 * 1024;

/**
 * A token bucket for one direction of one connection: at most `burst` bytes at once, refilled at
 * `bytesPerSecond`. Callers ask before they write (or hand on what they read) and wait as told, so
 * nothing is buffered beyond what the caller already holds: with writes that wait for the socket to
 * drain, the limit adds no memory at all.
 *
 * Kept as a "theoretical arrival time" (GCRA) rather than a token count, so concurrent callers queue
 * in the order they asked without a list, and a request bigger than the bucket is simply scheduled
 * later. Whatever the sizes and the order of the requests, the bytes granted by time t since the
 * bucket was made are at most `burst + bytesPerSecond × t`.
 */
export class TokenBucket {
  readonly burst: number;
  /** When the bytes granted so far would have drained at the rate (ms on the clock). */
  private tat: number;

  constructor(
    readonly bytesPerSecond: number,
    private readonly clock: RateClock = REAL_CLOCK,
    burst?: number,
  ) {
    if (!(bytesPerSecond > 0) || !Number.isFinite(bytesPerSecond)) {
      throw new RangeError(`a rate must be a positive number of bytes per second, not ${bytesPerSecond}`);
    }
    this.burst = burst ?? Math.max(RATE_MIN_BURST, Math.ceil((bytesPerSecond * RATE_BURST_MS) / 1000));
    this.tat = clock.now();
  }

  /** The largest piece worth asking for at once: bigger writes are cut to this (see {@link slices}). */
  get slice(): number {
    return this.burst;
  }

  /** Books `bytes` now and returns how many ms the caller must wait before they may go. */
  reserve(bytes: number): number {
    const now = this.clock.now();
    this.tat = Math.max(this.tat, now) + (bytes * 1000) / this.bytesPerSecond;
    const allowedAt = this.tat - (this.burst * 1000) / this.bytesPerSecond;
    return Math.max(0, allowedAt - now);
  }

  /** Waits until `bytes` may go. */
  async take(bytes: number): Promise<void> {
    const wait = this.reserve(bytes);
    if (wait > 0) await this.clock.sleep(wait);
  }
}

/** `chunk` cut into views of at most `max` bytes, in order (the chunk itself when it is small enough). */
export function* slices(chunk: Uint8Array, max: number): Generator<Uint8Array> {
  if (chunk.byteLength <= max) {
    yield chunk;
    return;
  }
  for (let at = 0; at < chunk.byteLength; at += max)
    yield chunk.subarray(at, Math.min(at + max, chunk.byteLength));
}
