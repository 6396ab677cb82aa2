import { mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { mtimeOf, utimesSeconds } from "./mtime.js";

const dir = mkdtempSync(join(tmpdir(), "ferry-mtime-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("utimesSeconds", () => {
  it("sets mtimes that read back to the millisecond (plain ms / 1000 loses one on about half)", () => {
    const file = join(dir, "f");
    writeFileSync(file, "x");
    let plainMisses = 0;
    for (let i = 0; i < 500; i++) {
      const ms = 1_700_000_000_000 + i * 7_919_113 + (i % 1000);
      utimesSync(file, utimesSeconds(ms), utimesSeconds(ms));
      expect(mtimeOf(statSync(file))).toBe(ms);
      utimesSync(file, ms / 1000, ms / 1000);
      if (mtimeOf(statSync(file)) !== ms) plainMisses++;
    }
    // The reason the helper exists; if a Node ever rounds exactly, this says so.
    expect(plainMisses).toBeGreaterThan(0);
  });

  it("mtimeOf never goes below 0", () => {
    expect(mtimeOf({ mtimeMs: -5.5 })).toBe(0);
    expect(mtimeOf({ mtimeMs: 12.9 })).toBe(12);
  });
});
