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
    for (let i = 0; i < 500; i++) {
      const ms = 1_700_000_000_000 + i * 7_919_113 + (i % 1000);
      utimesSync(file, utimesSeconds(ms), utimesSeconds(ms));
      expect(mtimeOf(statSync(file))).toBe(ms);
    }
  });

  // Node 26 rounds exactly (the helper's half millisecond is then harmless); older lines do not,
  // which is why the helper exists.
  const major = Number(process.versions.node.split(".")[0]);
  it.runIf(major < 26)(
    "is needed on Node before 26: there plain ms / 1000 reads back one ms early about half the time",
    () => {
      const file = join(dir, "g");
      writeFileSync(file, "x");
      let plainMisses = 0;
      for (let i = 0; i < 500; i++) {
        const ms = 1_700_000_000_000 + i * 7_919_113 + (i % 1000);
        utimesSync(file, ms / 1000, ms / 1000);
        if (mtimeOf(statSync(file)) !== ms) plainMisses++;
      }
      expect(plainMisses).toBeGreaterThan(0);
    },
  );

  it("mtimeOf never goes below 0", () => {
    expect(mtimeOf({ mtimeMs: -5.5 })).toBe(0);
    expect(mtimeOf({ mtimeMs: 12.9 })).toBe(12);
  });
});
