import { describe, expect, it } from "vitest";
import { formatTable, formatValue, judged } from "./report.js";
import { mbps, median, sizeLabel } from "./stats.js";

describe("median", () => {
  it("takes the middle of an odd list and the mean of the middle two of an even one", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
  });
  it("refuses an empty list", () => {
    expect(() => median([])).toThrow(RangeError);
  });
});

describe("units", () => {
  it("uses 10^6 bytes per MB and binary size labels", () => {
    expect(mbps(500_000_000, 2)).toBe(250);
    expect(sizeLabel(1024 ** 3)).toBe("1 GiB");
    expect(sizeLabel(64 * 1024 ** 2)).toBe("64 MiB");
    expect(sizeLabel(4096)).toBe("4 KiB");
  });
});

describe("table", () => {
  it("judges targets and aligns columns", () => {
    const pass = judged({ section: "big", name: "put", value: 0.9, unit: "× md5sum" }, ">=", 0.8);
    const miss = judged({ section: "big", name: "rss", value: 95, unit: "MB" }, "<", 80);
    const none = judged({ section: "mem", name: "x", value: null, unit: "MB" }, "<", 80);
    expect([pass.pass, miss.pass, none.pass]).toEqual([true, false, false]);
    expect(pass.target).toBe("≥ 0.800");
    const lines = formatTable([pass, miss, { section: "c", name: "n", value: 1234.5, unit: "MB/s" }]).split(
      "\n",
    );
    expect(lines[0]).toMatch(/^section \| measure \| +value \| unit/);
    expect(lines[2]).toContain("pass");
    expect(lines[3]).toMatch(/^ +\| rss/);
    expect(lines[3]).toContain("MISS");
    expect(new Set(lines.slice(0, 5).map((l) => l.indexOf("|"))).size).toBe(1);
    expect(formatValue(1234.5)).toBe("1235");
    expect(formatValue(300)).toBe("300");
    expect(formatValue(0)).toBe("0");
    expect(formatValue(0.25)).toBe("0.250");
  });
});
