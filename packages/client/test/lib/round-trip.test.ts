import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Progress } from "../../src/lib/index.js";
import { MiB, md5File, rejection, session, tempDir, testServer, writeRandomFile } from "./helpers.js";

describe("put and get round trips against the real server", () => {
  it.each([
    ["empty", 0],
    ["1 byte", 1],
    ["just under the streamed-put limit", MiB],
    ["just over it (handshake put)", MiB + 1],
  ])("%s", async (_label, size) => {
    const server = await testServer();
    const dir = await tempDir();
    const local = join(dir, "src.bin");
    await writeRandomFile(local, size, `seed-${size}`);
    const s = await session(server);

    const up = await s.put(local, "/f.bin");
    const md5 = await md5File(local);
    expect(up).toMatchObject({ size, md5, transferred: size, resumedFrom: 0, remote: "/f.bin" });
    expect(await md5File(join(server.root, "f.bin"))).toBe(md5);

    const back = join(dir, "back.bin");
    const down = await s.get("/f.bin", back);
    expect(down).toMatchObject({ size, md5, transferred: size, resumedFrom: 0 });
    expect(await md5File(back)).toBe(md5);
  });

  it("64 MiB both ways, with throttled progress", async () => {
    const server = await testServer();
    const dir = await tempDir();
    const local = join(dir, "big.bin");
    const size = 64 * MiB;
    await writeRandomFile(local, size, "big");
    const md5 = await md5File(local);
    const s = await session(server);

    const upSeen: Progress[] = [];
    const up = await s.put(local, "/big.bin", { onProgress: (p) => upSeen.push(p) });
    expect(up).toMatchObject({ size, md5, transferred: size });
    expect(await md5File(join(server.root, "big.bin"))).toBe(md5);

    const downSeen: Progress[] = [];
    const back = join(dir, "back.bin");
    const down = await s.get("big.bin", back, { onProgress: (p) => downSeen.push(p) });
    expect(down).toMatchObject({ size, md5, transferred: size });
    expect(await md5File(back)).toBe(md5);

    for (const seen of [upSeen, downSeen]) {
      // 64 chunks of 1 MiB (or ~1000 socket reads) must not each reach the observer.
      expect(seen.length).toBeGreaterThanOrEqual(2);
      expect(seen.length).toBeLessThan(64);
      expect(seen.at(-1)).toMatchObject({ bytes: size, total: size, transferred: size });
      const bytes = seen.map((p) => p.bytes);
      expect([...bytes].sort((a, b) => a - b)).toEqual(bytes);
    }
  });

  it("unicode and spaces in names, both ways", async () => {
    const server = await testServer();
    const dir = await tempDir();
    const name = "Grüße aus Köln — 東京 📦.txt";
    const local = join(dir, name);
    await writeFile(local, "hello ünïcødé\n");
    const s = await session(server);
    await s.mkdir("/dír with space");
    await s.put(local, `/dír with space/${name}`);
    expect(await readFile(join(server.root, "dír with space", name), "utf8")).toBe("hello ünïcødé\n");
    const entries = await s.list("/dír with space");
    expect(entries.map((e) => e.name)).toEqual([name]);
    const back = join(dir, `back ${name}`);
    await s.get(`dír with space/${name}`, back);
    expect(await readFile(back, "utf8")).toBe("hello ünïcødé\n");
  });

  it("EEXIST both ways unless overwrite", async () => {
    const server = await testServer();
    const dir = await tempDir();
    const a = join(dir, "a.txt");
    const b = join(dir, "b.txt");
    await writeFile(a, "first");
    await writeFile(b, "second");
    const s = await session(server);
    await s.put(a, "x.txt");

    expect((await rejection(s.put(b, "x.txt"))).code).toBe("EEXIST");
    await s.put(b, "x.txt", { overwrite: true });
    expect(await readFile(join(server.root, "x.txt"), "utf8")).toBe("second");

    // The local target exists: refused before any request, and left untouched.
    expect((await rejection(s.get("x.txt", a))).code).toBe("EEXIST");
    expect(await readFile(a, "utf8")).toBe("first");
    await s.get("x.txt", a, { overwrite: true });
    expect(await readFile(a, "utf8")).toBe("second");

    // A refused handshake put (big file) leaves the connection usable.
    const big = join(dir, "big.bin");
    await writeRandomFile(big, 2 * MiB);
    await s.put(big, "big.bin");
    expect((await rejection(s.put(big, "big.bin"))).code).toBe("EEXIST");
    expect((await s.stat("big.bin")).size).toBe(2 * MiB);
  });

  it("local and remote errors carry the protocol codes", async () => {
    const server = await testServer();
    const dir = await tempDir();
    const s = await session(server);
    const missing = await rejection(s.put(join(dir, "nope"), "nope"));
    expect(missing).toMatchObject({ code: "ENOENT", details: { local: true } });
    expect((await rejection(s.put(dir, "d"))).code).toBe("EISDIR");
    expect((await rejection(s.get("nope", join(dir, "nope")))).code).toBe("ENOENT");
    expect((await rejection(s.put(join(dir, "x"), "../escape"))).code).toBe("ENOENT");
    await writeFile(join(dir, "x"), "x");
    expect((await rejection(s.put(join(dir, "x"), "../escape"))).code).toBe("EBADPATH");
    expect((await rejection(s.put(join(dir, "x"), "no/parent/x"))).code).toBe("ENOENT");
    await s.put(join(dir, "x"), "no/parent/x", { parents: true });
    expect((await s.stat("/no/parent/x")).size).toBe(1);
  });

  it("a local failure during a get is reported and the session stays in step", async () => {
    const server = await testServer();
    const dir = await tempDir();
    await writeRandomFile(join(server.root, "big.bin"), 3 * MiB);
    await writeFile(join(server.root, "small.txt"), "small");
    const s = await session(server);
    // Pipelined behind each other: the first cannot be written locally, the rest must not suffer.
    const [big, small, big2] = await Promise.allSettled([
      s.get("big.bin", join(dir, "missing-dir", "big.bin")),
      s.get("small.txt", join(dir, "missing-dir", "small.txt")),
      s.get("big.bin", join(dir, "big.bin")),
    ]);
    expect(big.status === "rejected" && big.reason).toMatchObject({
      code: "ENOENT",
      details: { local: true },
    });
    expect(small.status === "rejected" && small.reason).toMatchObject({ code: "ENOENT" });
    expect(big2.status).toBe("fulfilled");
    expect(await md5File(join(dir, "big.bin"))).toBe(await md5File(join(server.root, "big.bin")));
    expect(s.closed).toBe(false);
  });
});
