import { constants, PerformanceObserver } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { ReadBufferCollector } from "./read-buffer-gc.js";

/** Calls `fn`, then reports the kinds of the GCs V8 ran in the next `ms`. */
async function gcKindsDuring(fn: () => void, ms: number): Promise<number[]> {
  const kinds: number[] = [];
  const obs = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      kinds.push((entry as unknown as { detail?: { kind?: number } }).detail?.kind ?? -1);
    }
  });
  obs.observe({ entryTypes: ["gc"] });
  fn();
  await sleep(ms);
  obs.disconnect();
  return kinds;
}

describe("ReadBufferCollector", () => {
  it("runs a minor GC once the bytes read reach its threshold, not before", async () => {
    const collector = new ReadBufferCollector(1000);
    // The test runner's own start-up collects too: wait for a quiet moment first.
    for (let i = 0; i < 40 && (await gcKindsDuring(() => {}, 50)).length > 0; i++);
    expect(await gcKindsDuring(() => collector.received(600), 50)).not.toContain(
      constants.NODE_PERFORMANCE_GC_MINOR,
    );
    expect(await gcKindsDuring(() => collector.received(600), 50)).toContain(
      constants.NODE_PERFORMANCE_GC_MINOR,
    );
  });
});
