import { constants, PerformanceObserver } from "node:perf_hooks";
import { describe, expect, it } from "vitest";
import { ReadBufferCollector } from "./read-buffer-gc.js";

/** Resolves with the kind of the next GC that V8 reports. */
function nextGc(): Promise<number> {
  return new Promise((resolve) => {
    const obs = new PerformanceObserver((list) => {
      const entry = list.getEntries()[0] as unknown as { detail?: { kind?: number } };
      obs.disconnect();
      resolve(entry.detail?.kind ?? -1);
    });
    obs.observe({ entryTypes: ["gc"] });
  });
}

describe("ReadBufferCollector", () => {
  it("runs a minor GC once the bytes read reach its threshold", async () => {
    const collector = new ReadBufferCollector(1000);
    const gc = nextGc();
    collector.received(600);
    collector.received(600);
    expect(await gc).toBe(constants.NODE_PERFORMANCE_GC_MINOR);
  });
});
