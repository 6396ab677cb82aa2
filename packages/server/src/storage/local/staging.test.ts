import { mkdtemp, readdir, rm, stat, utimes } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Staging } from "./staging.js";

describe("Staging", () => {
  let root: string;
  let staging: Staging;
  beforeEach(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), "ferryd-staging-"));
    staging = new Staging(root);
    await staging.open();
  });
  afterEach(async () => {
    await staging.close();
    await rm(root, { recursive: true, force: true });
  });

  async function partial(rel: string, size: number, bytes: string, md5?: string): Promise<void> {
    const { file, fh } = await staging.create({ path: rel, size, md5 });
    await fh.write(bytes);
    await fh.close();
    await staging.keep(file, { path: rel, size, md5 });
  }

  it("gives each upload its own file", async () => {
    const a = await staging.create({ path: "same", size: 1 });
    const b = await staging.create({ path: "same", size: 1 });
    await a.fh.close();
    await b.fh.close();
    expect(a.file).not.toBe(b.file);
    expect(path.dirname(a.file)).toBe(staging.dir);
  });

  it("keeps an interrupted upload for the same path and size, once", async () => {
    await partial("a/b.bin", 10, "hello");
    expect(await staging.claim("a/b.bin", 11)).toBeNull();
    expect(await staging.claim("a/c.bin", 10)).toBeNull();
    const claim = await staging.claim("a/b.bin", 10);
    expect(claim?.bytes).toBe(5);
    expect((await stat(claim?.file as string)).size).toBe(5);
    expect(await staging.claim("a/b.bin", 10)).toBeNull();
  });

  it("adopts the in-progress files of a server that died as resumable partials", async () => {
    const { file, fh } = await staging.create({ path: "dead.bin", size: 10 });
    await fh.write("12345");
    await fh.close();
    const empty = await staging.create({ path: "empty.bin", size: 10 });
    await empty.fh.close();
    expect(path.basename(file)).toMatch(/\.part$/);
    const again = new Staging(root);
    await again.open();
    expect(await again.adoptOrphans()).toBe(1);
    expect((await again.claim("dead.bin", 10))?.bytes).toBe(5);
    expect(await again.claim("empty.bin", 10)).toBeNull();
    await again.close();
  });

  it("a claim waits for an upload of the same path and size that is saving its partial", async () => {
    const { file, fh } = await staging.create({ path: "w.bin", size: 10 });
    const ticket = staging.track("w.bin", 10);
    await fh.write("1234");
    ticket.lost();
    const claiming = staging.claim("w.bin", 10);
    await fh.close();
    await staging.keep(file, { path: "w.bin", size: 10 });
    ticket.done();
    expect((await claiming)?.bytes).toBe(4);
  });

  it("refuses a partial whose md5 disagrees, and removes it", async () => {
    await partial("x", 10, "hello", "0".repeat(32));
    expect(await staging.claim("x", 10, "1".repeat(32))).toBeNull();
    expect(await readdir(staging.dir)).toEqual([]);
  });

  it("accepts a partial when only one side knows the md5", async () => {
    await partial("x", 10, "hello", "0".repeat(32));
    expect((await staging.claim("x", 10))?.bytes).toBe(5);
  });

  it("cleans files older than the stale age and keeps fresh ones", async () => {
    await partial("old", 10, "aaa");
    await partial("new", 10, "bbb");
    const old = (await readdir(staging.dir)).map((n) => path.join(staging.dir, n));
    const past = new Date(Date.now() - 3 * 3600_000);
    for (const f of old) {
      if ((await stat(f)).size === 3 || f.endsWith(".json")) await utimes(f, past, past);
    }
    await partial("fresh", 10, "ccc");
    await staging.cleanStale(3600_000);
    expect((await staging.claim("fresh", 10))?.bytes).toBe(3);
    expect(await staging.claim("old", 10)).toBeNull();
  });
});
