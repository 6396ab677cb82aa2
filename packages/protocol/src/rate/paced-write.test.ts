import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { writePaced } from "./paced-write.js";
import { type RateClock, TokenBucket } from "./token-bucket.js";

/** A sink that takes one write per event-loop turn, so writes back up as on a slow socket. */
function slowSink(highWaterMark: number) {
  const writes: { at: number; bytes: number; queued: number }[] = [];
  let now = 0;
  const clock: RateClock = {
    now: () => now,
    sleep: async (ms) => {
      now += ms;
    },
  };
  const sink = new Writable({
    highWaterMark,
    write(_chunk: Buffer, _enc, done) {
      setImmediate(done);
    },
  });
  const origWrite = sink.write.bind(sink);
  sink.write = ((chunk: Buffer, ...rest: unknown[]) => {
    writes.push({ at: now, bytes: chunk.length, queued: sink.writableLength });
    return (origWrite as (c: Buffer, ...r: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof sink.write;
  return { sink, clock, writes };
}

describe("writePaced", () => {
  it("writes in slices the bucket allows, each after the stream drained, and calls back once", async () => {
    const { sink, clock, writes } = slowSink(16 * 1024);
    const bucket = new TokenBucket(100 * 1024, clock, 16 * 1024);
    const chunk = Buffer.alloc(1024 * 1024, 7);
    let calledBack = 0;
    const sliced: number[] = [];
    const more = await writePaced(
      sink,
      chunk,
      bucket,
      () => {
        calledBack++;
      },
      (n) => sliced.push(n),
    );
    await new Promise<void>((resolve) => sink.end(resolve));
    expect(typeof more).toBe("boolean");
    expect(calledBack).toBe(1);
    expect(writes.map((w) => w.bytes).reduce((a, b) => a + b, 0)).toBe(chunk.length);
    expect(Math.max(...writes.map((w) => w.bytes))).toBeLessThanOrEqual(16 * 1024);
    expect(sliced).toEqual(writes.map((w) => w.bytes));
    // Nothing piles up in the stream: each slice goes in once the one before has drained.
    expect(Math.max(...writes.map((w) => w.queued))).toBeLessThanOrEqual(16 * 1024);
    // And the bytes were let out no faster than the rate: 1 MiB less the burst at 100 KiB/s.
    const last = writes[writes.length - 1] as { at: number };
    expect(last.at).toBeGreaterThanOrEqual(((chunk.length - 2 * 16 * 1024) / (100 * 1024)) * 1000);
  });

  it("without a bucket is one plain write", async () => {
    const { sink, writes } = slowSink(16 * 1024);
    let calledBack = false;
    await writePaced(sink, Buffer.alloc(100_000), null, () => {
      calledBack = true;
    });
    await new Promise<void>((resolve) => sink.end(resolve));
    expect(writes.map((w) => w.bytes)).toEqual([100_000]);
    expect(calledBack).toBe(true);
  });

  it("fails with ECONNLOST on a stream that closed meanwhile", async () => {
    const { sink, clock } = slowSink(16 * 1024);
    const bucket = new TokenBucket(1024, clock, 16 * 1024);
    sink.destroy();
    await expect(writePaced(sink, Buffer.alloc(64 * 1024), bucket)).rejects.toMatchObject({
      code: "ECONNLOST",
    });
  });
});
