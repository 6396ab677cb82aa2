import { describe, expect, it } from "vitest";
import { type Progress, ProgressReporter } from "./progress.js";

describe("ProgressReporter", () => {
  it("reports at the start, at the last byte and at the end, not per chunk", () => {
    const seen: Progress[] = [];
    // An interval no test run can reach: only the start, the last byte and the end may appear.
    const reporter = new ProgressReporter(1000, (p) => seen.push(p), 1e12);
    reporter.begin(100);
    for (let i = 0; i < 900; i++) reporter.add(1);
    reporter.finish();
    expect(seen).toHaveLength(3);
    expect(seen[0]).toMatchObject({ bytes: 100, total: 1000, transferred: 0, phase: "data" });
    // Every byte has moved: the check and sync that follow show as "verifying", not as a stuck 97 %.
    expect(seen[1]).toMatchObject({ bytes: 1000, total: 1000, transferred: 900, phase: "verifying" });
    expect(seen[2]).toMatchObject({ bytes: 1000, total: 1000, transferred: 900, phase: "done" });
    expect(seen[2]?.rate).toBeGreaterThanOrEqual(0);
  });

  it("reports every chunk when the interval is zero, with counts that add up", () => {
    const seen: Progress[] = [];
    const reporter = new ProgressReporter(30, (p) => seen.push(p), 0);
    reporter.begin(0);
    reporter.add(10);
    reporter.add(20);
    expect(seen.map((p) => p.bytes)).toEqual([0, 10, 30]);
    expect(reporter.moved).toBe(30);
  });

  it("survives a throwing observer", () => {
    const reporter = new ProgressReporter(10, () => {
      throw new Error("broken bar");
    });
    reporter.begin(0);
    reporter.add(10);
    expect(() => reporter.finish()).not.toThrow();
  });
});
