import { randomBytes } from "node:crypto";
import { stat, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { MiB, md5File, rejection, session, tempDir, testServer, writeRandomFile } from "./helpers.js";

const plain = { tls: false as const };
/** An mtime whose milliseconds `ms / 1000` would round down: the helper must keep it exact. */
const MTIME = 1764272986718;

describe("keeping mtimes (preserve)", () => {
  it.each([
    ["a small file", 5000],
    ["a big file", 3 * MiB],
  ])("put and get of %s keep the source's mtime to the millisecond", async (_, size) => {
    const server = await testServer({ tls: false });
    const s = await session(server, plain);
    const dir = await tempDir();
    const src = join(dir, "src.bin");
    await writeRandomFile(src, size);
    await utimes(src, MTIME / 1000, (MTIME + 0.5) / 1000);
    const put = await s.put(src, "kept.bin", { preserve: true });
    expect(put.mtime).toBe(MTIME);
    expect(Math.floor((await stat(join(server.root, "kept.bin"))).mtimeMs)).toBe(MTIME);

    const back = join(dir, "back.bin");
    const got = await s.get("kept.bin", back, { preserve: true });
    expect(got.mtime).toBe(MTIME);
    expect(Math.floor((await stat(back)).mtimeMs)).toBe(MTIME);
    expect(await md5File(back)).toBe(put.md5);
  });

  it("without preserve the files are dated when they arrive", async () => {
    const server = await testServer({ tls: false });
    const s = await session(server, plain);
    const dir = await tempDir();
    const src = join(dir, "src.txt");
    await writeFile(src, "dated now");
    await utimes(src, MTIME / 1000, MTIME / 1000);
    await s.put(src, "now.txt");
    expect((await stat(join(server.root, "now.txt"))).mtimeMs).toBeGreaterThan(MTIME + 1000);
    await s.get("now.txt", join(dir, "back.txt"));
    expect((await stat(join(dir, "back.txt"))).mtimeMs).toBeGreaterThan(MTIME + 1000);
  });
});

describe("sum", () => {
  it("gives the md5 of a remote file without downloading it, pipelined, and ENOENT for a missing one", async () => {
    const server = await testServer({ tls: false });
    const s = await session(server, plain);
    const files = Array.from({ length: 20 }, (_, i) => randomBytes(100 * i + 1));
    await Promise.all(files.map((f, i) => writeFile(join(server.root, `f${i}`), f)));
    const sums = await Promise.all(files.map((_, i) => s.sum(`f${i}`)));
    for (const [i, f] of files.entries()) {
      expect(sums[i]).toMatchObject({ path: `f${i}`, size: f.length });
      expect(sums[i]?.md5).toBe(await md5File(join(server.root, `f${i}`)));
    }
    expect((await rejection(s.sum("missing"))).code).toBe("ENOENT");
    expect((await s.stat("f0")).size).toBe(1);
  });
});

describe("limitRate", () => {
  const RATE = 1024 * 1024;
  // A lower bound only: a limited transfer may be slower on a loaded machine, never much faster.
  const atLeastMs = (bytes: number) => (bytes / (3 * RATE)) * 1000;

  it("an upload and a download are no faster than the limit, and progress shows the limited rate", async () => {
    const server = await testServer({ tls: false });
    const s = await session(server, { ...plain, limitRate: RATE });
    const dir = await tempDir();
    const src = join(dir, "src.bin");
    const size = 3 * MiB;
    await writeRandomFile(src, size);
    const rates: number[] = [];
    let started = performance.now();
    const put = await s.put(src, "limited.bin", { onProgress: (p) => rates.push(p.rate) });
    expect(performance.now() - started).toBeGreaterThanOrEqual(atLeastMs(size));
    expect(put.transferred).toBe(size);
    // Counted as the bytes go out, not as they are handed over: never three times the limit.
    expect(Math.max(...rates.slice(1))).toBeLessThan(3 * RATE);

    started = performance.now();
    const got = await s.get("limited.bin", join(dir, "back.bin"));
    expect(performance.now() - started).toBeGreaterThanOrEqual(atLeastMs(size));
    expect(got.md5).toBe(put.md5);

    // Small files pipelined: the limit holds over the whole session, not per file.
    const smalls = Array.from({ length: 12 }, (_, i) => join(dir, `s${i}`));
    await Promise.all(smalls.map((f, i) => writeRandomFile(f, 256 * 1024, `s${i}`)));
    started = performance.now();
    await Promise.all(smalls.map((f, i) => s.put(f, `s${i}`)));
    expect(performance.now() - started).toBeGreaterThanOrEqual(atLeastMs(12 * 256 * 1024));
  });

  it("refuses a rate that is not one", async () => {
    const server = await testServer({ tls: false });
    await expect(session(server, { ...plain, limitRate: 0 })).rejects.toThrow(RangeError);
  });
});
