import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { RATE_MIN_BURST, type RateClock, slices, TokenBucket } from "./token-bucket.js";

/** A clock that only moves when someone sleeps on it: waits are counted, never waited. */
function fakeClock(): RateClock & { slept: number[]; advance(ms: number): void } {
  let now = 1_000;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    advance: (ms) => {
      now += ms;
    },
    sleep: async (ms) => {
      slept.push(ms);
      now += ms;
    },
  };
}

describe("TokenBucket", () => {
  it("lets a burst through at once, then paces to the rate", async () => {
    const clock = fakeClock();
    const bucket = new TokenBucket(100_000, clock, 10_000);
    await bucket.take(10_000);
    expect(clock.slept).toEqual([]);
    await bucket.take(50_000);
    expect(clock.slept).toEqual([500]);
    // 1 MB at 100 kB/s: ten seconds, however it is cut up.
    const start = clock.now();
    for (let i = 0; i < 100; i++) await bucket.take(10_000);
    expect(clock.now() - start).toBeCloseTo(10_000, 6);
  });

  it("refills while nobody asks, up to the burst and no more", async () => {
    const clock = fakeClock();
    const bucket = new TokenBucket(1_000, clock, 2_000);
    await bucket.take(2_000);
    clock.advance(60_000);
    await bucket.take(2_000);
    expect(clock.slept).toEqual([]);
    await bucket.take(1_000);
    expect(clock.slept).toEqual([1_000]);
  });

  it("never grants more than burst + rate × time, for any sizes and pauses (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1_000, max: 50_000_000 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 3_000_000 }), fc.integer({ min: 0, max: 500 })), {
          minLength: 1,
          maxLength: 60,
        }),
        async (rate, steps) => {
          const clock = fakeClock();
          const bucket = new TokenBucket(rate, clock);
          const t0 = clock.now();
          let granted = 0;
          for (const [bytes, pause] of steps) {
            clock.advance(pause);
            await bucket.take(bytes);
            granted += bytes;
            const allowed = bucket.burst + (rate * (clock.now() - t0)) / 1000;
            expect(granted).toBeLessThanOrEqual(allowed + 1e-6 * allowed);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it("does not throttle below the rate: a steady sender gets rate × time", async () => {
    const clock = fakeClock();
    const rate = 1024 * 1024;
    const bucket = new TokenBucket(rate, clock);
    const t0 = clock.now();
    for (let i = 0; i < 1000; i++) await bucket.take(64 * 1024);
    const seconds = (clock.now() - t0) / 1000;
    // 62.5 MiB at 1 MiB/s, less the burst that went at once.
    expect(seconds).toBeCloseTo((1000 * 64 * 1024 - bucket.burst) / rate, 6);
  });

  it("queues concurrent callers in the order they asked", async () => {
    const clock = fakeClock();
    const bucket = new TokenBucket(1_000, clock, 1_000);
    const waits = [bucket.reserve(1_000), bucket.reserve(1_000), bucket.reserve(500)];
    expect(waits).toEqual([0, 1_000, 1_500]);
  });

  it("holds rate × 50 ms, at least 16 KiB", () => {
    expect(new TokenBucket(10 * 1024 * 1024).burst).toBe(Math.ceil(10 * 1024 * 1024 * 0.05));
    expect(new TokenBucket(1000).burst).toBe(RATE_MIN_BURST);
    expect(() => new TokenBucket(0)).toThrow(RangeError);
    expect(() => new TokenBucket(Number.NaN)).toThrow(RangeError);
  });
});

describe("slices", () => {
  it("cuts a chunk into views of at most max bytes, in order, without copying", () => {
    const chunk = Buffer.from("abcdefghij");
    const parts = [...slices(chunk, 4)].map((p) => Buffer.from(p).toString());
    expect(parts).toEqual(["abcd", "efgh", "ij"]);
    const [whole] = [...slices(chunk, 10)];
    expect(whole).toBe(chunk);
    expect([...slices(Buffer.alloc(0), 4)]).toHaveLength(1);
  });
});
