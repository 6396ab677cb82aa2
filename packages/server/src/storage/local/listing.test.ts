import { writeFileSync } from "node:fs";
import { lstat, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { ListBudget } from "../list-budget.js";
import { type SortedListingOptions, type StatedName, sortedListing } from "./listing.js";
import { NameArena, SORT_SCRATCH_PER_NAME } from "./name-arena.js";
import { STAGING_DIR } from "./sandbox.js";

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "ferryd-listing-"));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function options(dir: string, over: Partial<SortedListingOptions> = {}): SortedListingOptions {
  return {
    budget: new ListBudget(64 * 1024 * 1024),
    maxEntries: 1_000_000,
    lstat: (name) => lstat(path.join(dir, name)),
    ...over,
  };
}

async function names(dir: string, over: Partial<SortedListingOptions> = {}): Promise<string[]> {
  const out: string[] = [];
  for await (const batch of sortedListing(dir, options(dir, over))) out.push(...batch.map((e) => e.name));
  return out;
}

const byUtf8 = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** A random name of 1-12 code points from ranges where UTF-16 and UTF-8 orders agree and where not. */
function randomName(random: () => number): string {
  const ranges = [
    [0x21, 0x7e],
    [0xa0, 0x7ff],
    [0x800, 0xd7ff],
    [0xe000, 0xffff],
    [0x10000, 0x10ffff],
  ] as const;
  let name = "";
  const length = 1 + Math.floor(random() * 12);
  for (let i = 0; i < length; i++) {
    const [lo, hi] = ranges[Math.floor(random() * ranges.length)] as readonly [number, number];
    name += String.fromCodePoint(lo + Math.floor(random() * (hi - lo + 1)));
  }
  return name;
}

/** Deterministic, so a failure can be replayed. */
function seeded(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

describe("NameArena", () => {
  it("sorts like Buffer.compare of the UTF-8 bytes, surrogate pairs against U+E000..FFFF included", () => {
    const random = seeded(7);
    const all = Array.from({ length: 5000 }, () => randomName(random));
    all.push("\uffff", "\u{10000}", "\ue000", "\ud7ff", "a", "ab", "a\u{1f600}", "a\uffff");
    // Counted for fewer names than come, as when a directory grows between the two passes.
    const arena = new NameArena(10, 10);
    for (const name of all) arena.add(name);
    arena.sort();
    const sorted = Array.from({ length: arena.length }, (_, i) => arena.name(i));
    expect(sorted).toEqual([...all].sort(byUtf8));
    expect(arena.size).toBe(NameArena.cost(all.length, Buffer.byteLength(all.join(""))));
  });
});

describe("sortedListing", () => {
  it("lists by UTF-8 bytes; skips names that are not UTF-8, and staging folders", async () => {
    const dir = await tempDir();
    const plain = ["b", "a", "é", "\ue000", "😀", "Z", "a b"];
    for (const name of plain) await writeFile(path.join(dir, name), name);
    await mkdir(path.join(dir, STAGING_DIR));
    // A name whose bytes are not UTF-8 (Node decodes the 0xff as U+FFFD): listed neither raw nor decoded.
    writeFileSync(Buffer.concat([Buffer.from(`${dir}/`), Buffer.from([0x78, 0xff])]), "bad");
    expect(await names(dir)).toEqual([...plain].sort(byUtf8));
    // A real file named with U+FFFD next to the bad name that decodes to the same string: listed once.
    await writeFile(path.join(dir, "x\ufffd"), "real");
    expect((await names(dir)).filter((n) => n === "x\ufffd")).toHaveLength(1);
  });

  it("skips an entry gone before its lstat and hands out batches of stat'ed entries", async () => {
    const dir = await tempDir();
    for (let i = 0; i < 300; i++) await writeFile(path.join(dir, `f${String(i).padStart(3, "0")}`), "");
    const batches: StatedName[][] = [];
    const o = options(dir, {
      lstat: (name) =>
        name === "f007"
          ? Promise.reject(Object.assign(new Error("gone"), { code: "ENOENT" }))
          : lstat(path.join(dir, name)),
    });
    for await (const batch of sortedListing(dir, o)) batches.push(batch);
    const all = batches.flat();
    expect(batches.length).toBeGreaterThan(1);
    expect(all).toHaveLength(299);
    expect(all.some((e) => e.name === "f007")).toBe(false);
    expect(all.every((e) => e.stats.isFile())).toBe(true);
  });

  it("holds its names' share from the first batch until it stops; a listing that does not fit is refused whole", async () => {
    const dir = await tempDir();
    const count = 5000;
    const all = Array.from({ length: count }, (_, i) => `name-${String(i).padStart(6, "0")}`);
    for (const name of all) await writeFile(path.join(dir, name), "");
    const bytes = Buffer.byteLength(all.join(""));
    const held = NameArena.cost(count, bytes);
    // Room for one listing while it sorts, not for two.
    const budget = new ListBudget(Math.floor(1.5 * held) + count * SORT_SCRATCH_PER_NAME, 0);

    const first = sortedListing(dir, options(dir, { budget }));
    expect((await first.next()).done).toBe(false);
    expect(budget.inUse).toBe(held);
    const second = sortedListing(dir, options(dir, { budget }));
    await expect(second.next()).rejects.toMatchObject({ code: "EBUSY" });
    expect(budget.inUse).toBe(held);
    await first.return(undefined);
    expect(budget.inUse).toBe(0);

    // Over the entry cap, or too big for the whole budget even alone: ETOOBIG, holding nothing.
    await expect(names(dir, { budget, maxEntries: count - 1 })).rejects.toMatchObject({ code: "ETOOBIG" });
    await expect(names(dir, { budget: new ListBudget(held / 2, 0) })).rejects.toMatchObject({
      code: "ETOOBIG",
    });
    expect(budget.inUse).toBe(0);
    expect(await names(dir, { budget })).toEqual(all);
    expect(budget.inUse).toBe(0);
  });

  it("does not count a small listing, so it lists while big ones hold the whole budget", async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, "only"), "");
    const budget = new ListBudget(1000);
    const fill = budget.open();
    fill.take(budget.limit + budget.uncountedPerListing);
    expect(budget.inUse).toBe(budget.limit);
    expect(await names(dir, { budget })).toEqual(["only"]);
    fill.close();
    fill.close();
    expect(budget.inUse).toBe(0);
  });
});
