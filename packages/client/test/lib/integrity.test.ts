import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { connect } from "../../src/lib/index.js";
import {
  MiB,
  md5File,
  rejection,
  session,
  tempDir,
  testProxy,
  testServer,
  waitForLocalPart,
  waitForServerPartial,
  writeRandomFile,
} from "./helpers.js";

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

// Over plain TCP: under TLS a flipped byte is a record that fails authentication before md5 sees it
// (see tls.test.ts).
describe("a flipped payload byte is caught", () => {
  // Far past the few hundred bytes of hello/file/data headers, well inside the payload.
  const FLIP_AT = 100_000;

  it.each([
    ["in memory", 256 * 1024],
    ["through a .part file", 3 * MiB],
  ])("get (%s): ECHECKSUM with both sums, no final file, no .part", async (_label, size) => {
    const server = await testServer({ tls: false });
    const dir = await tempDir();
    await writeRandomFile(join(server.root, "f.bin"), size);
    const proxy = await testProxy(server, { flip: { direction: "down", at: FLIP_AT } });
    const s = await session(proxy);
    const target = join(dir, "f.bin");
    const err = await rejection(s.get("f.bin", target));
    expect(err.code).toBe("ECHECKSUM");
    const expected = await md5File(join(server.root, "f.bin"));
    expect(err.details).toMatchObject({ expected });
    expect(err.details?.actual).toMatch(/^[0-9a-f]{32}$/);
    expect(err.details?.actual).not.toBe(expected);
    expect(await readdir(dir)).toEqual([]);
    // The mismatch ended only that request.
    expect((await s.stat("f.bin")).size).toBe(size);
  });

  it.each([
    ["streamed", 256 * 1024],
    ["handshake", 3 * MiB],
  ])("put (%s): ECHECKSUM from the server, nothing under the name", async (_label, size) => {
    const server = await testServer({ tls: false });
    const dir = await tempDir();
    const local = join(dir, "f.bin");
    await writeRandomFile(local, size);
    const proxy = await testProxy(server, { flip: { direction: "up", at: FLIP_AT } });
    const s = await session(proxy);
    expect((await rejection(s.put(local, "f.bin"))).code).toBe("ECHECKSUM");
    expect(await exists(join(server.root, "f.bin"))).toBe(false);
  });
});

describe("resume after a lost connection", () => {
  it("get: keeps the .part, then fetches only the missing bytes", async () => {
    const server = await testServer();
    const dir = await tempDir();
    const size = 16 * MiB;
    await writeRandomFile(join(server.root, "big.bin"), size);
    const proxy = await testProxy(server, { cut: { direction: "down", after: 5 * MiB } });
    const cut = await session(proxy);
    const target = join(dir, "big.bin");
    expect((await rejection(cut.get("big.bin", target))).code).toBe("ECONNLOST");
    expect(cut.closed).toBe(true);
    const kept = (await stat(`${target}.part`)).size;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(size);

    const s = await session(server);
    const result = await s.get("big.bin", target);
    expect(result.resumedFrom).toBe(kept);
    expect(result.transferred).toBe(size - kept);
    expect(await md5File(target)).toBe(await md5File(join(server.root, "big.bin")));
    expect(await exists(`${target}.part`)).toBe(false);
  });

  it("get: a .part that does not match the file starts over", async () => {
    const server = await testServer();
    const dir = await tempDir();
    const size = 4 * MiB;
    await writeRandomFile(join(server.root, "f.bin"), size, "server");
    const target = join(dir, "f.bin");
    await writeRandomFile(`${target}.part`, MiB, "something else");
    const s = await session(server);
    const result = await s.get("f.bin", target);
    expect(result).toMatchObject({ resumedFrom: 0, transferred: size });
    expect(await md5File(target)).toBe(await md5File(join(server.root, "f.bin")));
  });

  it("get with resume: false ignores the .part", async () => {
    const server = await testServer();
    const dir = await tempDir();
    await writeRandomFile(join(server.root, "f.bin"), 2 * MiB);
    const target = join(dir, "f.bin");
    await writeRandomFile(`${target}.part`, MiB);
    const s = await session(server);
    expect(await s.get("f.bin", target, { resume: false })).toMatchObject({ resumedFrom: 0 });
    expect(await md5File(target)).toBe(await md5File(join(server.root, "f.bin")));
  });

  it("put: the server keeps the partial, the next put sends only the rest", async () => {
    const server = await testServer();
    const dir = await tempDir();
    const size = 16 * MiB;
    const local = join(dir, "big.bin");
    await writeRandomFile(local, size);
    const proxy = await testProxy(server, { cut: { direction: "up", after: 6 * MiB } });
    const cut = await session(proxy);
    expect((await rejection(cut.put(local, "big.bin"))).code).toBe("ECONNLOST");
    await waitForServerPartial(server.root);

    const s = await session(server);
    const result = await s.put(local, "big.bin");
    expect(result.resumedFrom).toBeGreaterThan(0);
    expect(result.transferred).toBe(size - result.resumedFrom);
    expect(result.transferred).toBeLessThan(size);
    expect(await md5File(join(server.root, "big.bin"))).toBe(await md5File(local));
  });

  it("put with resume: false sends everything", async () => {
    const server = await testServer();
    const dir = await tempDir();
    const size = 8 * MiB;
    const local = join(dir, "big.bin");
    await writeRandomFile(local, size);
    const proxy = await testProxy(server, { cut: { direction: "up", after: 3 * MiB } });
    const cut = await session(proxy);
    expect((await rejection(cut.put(local, "big.bin"))).code).toBe("ECONNLOST");
    await waitForServerPartial(server.root);
    const s = await session(server);
    expect(await s.put(local, "big.bin", { resume: false })).toMatchObject({
      resumedFrom: 0,
      transferred: size,
    });
    expect(await md5File(join(server.root, "big.bin"))).toBe(await md5File(local));
  });
});

describe("abort", () => {
  it("get: EABORTED mid-transfer, the .part stays and resumes", async () => {
    const server = await testServer();
    const dir = await tempDir();
    const size = 8 * MiB;
    await writeRandomFile(join(server.root, "f.bin"), size);
    const proxy = await testProxy(server, { stall: { direction: "down", after: 3 * MiB } });
    const s = await connect({ host: proxy.host, port: proxy.port, tls: proxy.tls });
    const target = join(dir, "f.bin");
    const controller = new AbortController();
    const pending = s.get("f.bin", target, { signal: controller.signal });
    await proxy.stalled;
    // The proxy has passed 3 MiB on; the client may not have read them yet (a busy machine), and an
    // abort before it has is not mid-transfer. Its first 1 MiB block on disk says it has.
    await waitForLocalPart(`${target}.part`);
    controller.abort();
    expect((await rejection(pending)).code).toBe("EABORTED");
    expect(s.closed).toBe(true);
    expect((await rejection(s.stat("f.bin"))).code).toBe("ECONNLOST");
    const kept = (await stat(`${target}.part`)).size;
    expect(kept).toBeGreaterThan(0);

    const again = await session(server);
    const result = await again.get("f.bin", target);
    expect(result.resumedFrom).toBe(kept);
    expect(await md5File(target)).toBe(await md5File(join(server.root, "f.bin")));
  });

  it("put: EABORTED mid-transfer, the server's partial resumes", async () => {
    const server = await testServer();
    const dir = await tempDir();
    const size = 8 * MiB;
    const local = join(dir, "f.bin");
    await writeRandomFile(local, size);
    const proxy = await testProxy(server, { stall: { direction: "up", after: 3 * MiB } });
    const s = await connect({ host: proxy.host, port: proxy.port, tls: proxy.tls });
    const controller = new AbortController();
    const pending = s.put(local, "f.bin", { signal: controller.signal });
    await proxy.stalled;
    controller.abort();
    expect((await rejection(pending)).code).toBe("EABORTED");
    expect(s.closed).toBe(true);

    await waitForServerPartial(server.root);
    const again = await session(server);
    const result = await again.put(local, "f.bin");
    expect(result.resumedFrom).toBeGreaterThan(0);
    expect(result.transferred).toBe(size - result.resumedFrom);
    expect(await md5File(join(server.root, "f.bin"))).toBe(await md5File(local));
  });

  it("a transfer still waiting its turn is dropped without breaking the session", async () => {
    const server = await testServer();
    const dir = await tempDir();
    const big = join(dir, "big.bin");
    await writeRandomFile(big, 8 * MiB);
    const small = join(dir, "small.txt");
    await writeRandomFile(small, 10);
    const s = await session(server);
    const controller = new AbortController();
    const first = s.put(big, "big.bin");
    const second = s.put(small, "small.txt", { signal: controller.signal });
    const third = s.put(small, "third.txt");
    controller.abort();
    expect((await rejection(second)).code).toBe("EABORTED");
    await first;
    await third;
    expect(s.closed).toBe(false);
    expect((await rejection(s.stat("small.txt"))).code).toBe("ENOENT");
  });

  it("an already aborted signal sends nothing", async () => {
    const server = await testServer();
    const dir = await tempDir();
    const local = join(dir, "a");
    await writeRandomFile(local, 10);
    const s = await session(server);
    const signal = AbortSignal.abort();
    expect((await rejection(s.put(local, "a", { signal }))).code).toBe("EABORTED");
    expect((await rejection(s.get("x", join(dir, "x"), { signal }))).code).toBe("EABORTED");
    expect(s.closed).toBe(false);
    expect(await s.list("/")).toEqual([]);
  });
});
