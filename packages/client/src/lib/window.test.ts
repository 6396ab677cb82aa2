import { describe, expect, it } from "vitest";
import { inWindow } from "./window.js";

/** Runs `inWindow` over `sizes`; each call holds until released by hand. Records what overlapped. */
function harness(sizes: number[]) {
  const started: number[] = [];
  const finish = new Map<number, () => void>();
  let running = 0;
  let peak = 0;
  const run = (limit: Parameters<typeof inWindow<number>>[1]) =>
    inWindow(sizes, limit, async (_size, index) => {
      started.push(index);
      running++;
      peak = Math.max(peak, running);
      await new Promise<void>((resolve) => finish.set(index, resolve));
      running--;
    });
  const settle = () => new Promise((r) => setImmediate(r));
  return { started, finish, run, settle, peak: () => peak };
}

describe("inWindow", () => {
  it("keeps at most `count` calls in flight, starting them in order", async () => {
    const h = harness([1, 1, 1, 1, 1]);
    const done = h.run(2);
    await h.settle();
    expect(h.started).toEqual([0, 1]);
    h.finish.get(1)?.();
    await h.settle();
    expect(h.started).toEqual([0, 1, 2]);
    for (let i = 0; i < 5; i++) {
      h.finish.get(i)?.();
      await h.settle();
    }
    for (const f of h.finish.values()) f();
    await done;
    expect(h.peak()).toBe(2);
  });

  it("with a byte budget starts a call only when its size fits beside those in flight", async () => {
    const h = harness([40, 40, 40, 10]);
    const done = h.run({ count: 10, bytes: 100, sizeOf: (s) => s });
    await h.settle();
    expect(h.started).toEqual([0, 1]); // 40 + 40 in flight; a third 40 would make 120
    h.finish.get(0)?.();
    await h.settle();
    expect(h.started).toEqual([0, 1, 2, 3]); // 40 + 40 + 10 fits again
    for (const f of h.finish.values()) f();
    await done;
  });

  it("runs a call bigger than the whole budget, alone", async () => {
    const h = harness([10, 500, 10]);
    const done = h.run({ count: 10, bytes: 100, sizeOf: (s) => s });
    await h.settle();
    expect(h.started).toEqual([0]);
    h.finish.get(0)?.();
    await h.settle();
    expect(h.started).toEqual([0, 1]);
    h.finish.get(1)?.();
    await h.settle();
    expect(h.started).toEqual([0, 1, 2]);
    h.finish.get(2)?.();
    await done;
    expect(h.peak()).toBe(1);
  });

  it("starts nothing more once the signal is aborted", async () => {
    const ac = new AbortController();
    const started: number[] = [];
    let release = () => {};
    const done = inWindow(
      [1, 2, 3],
      1,
      async (_s, i) => {
        started.push(i);
        await new Promise<void>((r) => {
          release = r;
        });
      },
      ac.signal,
    );
    await new Promise((r) => setImmediate(r));
    ac.abort();
    release();
    await done;
    expect(started).toEqual([0]);
  });
});
