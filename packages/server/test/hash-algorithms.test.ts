import { createHash, randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { encodeFrame } from "@ferry/protocol";
import { xxhash128 } from "hash-wasm";
import { describe, expect, it } from "vitest";
import { md5, RawClient } from "./helpers/raw-client.js";
import { stagingFiles, startTestServer } from "./helpers/server.js";
import { until } from "./helpers/wait.js";

const sha256 = (data: Uint8Array) => createHash("sha256").update(data).digest("hex");

/** A handshake put (with `fields`) that sends its first `sent` bytes and dies, leaving a partial. */
async function leavePartial(
  port: number,
  root: string,
  data: Buffer,
  sent: number,
  fields: Record<string, unknown>,
) {
  const c = await RawClient.ready(port);
  const ready = await c.request({ cmd: "put", path: "p.bin", size: data.length, handshake: true, ...fields });
  expect(ready).toMatchObject({ ok: true, type: "ready", offset: 0 });
  c.socket.write(encodeFrame({ cmd: "data", id: ready.id, offset: 0, size: data.length }));
  await new Promise<void>((resolve) => c.socket.write(data.subarray(0, sent), () => resolve()));
  c.socket.destroy();
  const partial = async () =>
    (await stagingFiles(root)).some((n) => n.endsWith(".partial")) ? true : undefined;
  await until(partial, "the partial");
}

describe("negotiated hash algorithms (PROTOCOL.md §1.2)", () => {
  it("lists what it offers in its hello", async () => {
    const { port } = await startTestServer();
    const c = await RawClient.connect(port);
    const hello = await c.request({ cmd: "hello", version: 1, client: "raw-test/1" });
    expect(hello).toMatchObject({ ok: true, type: "hello", hashes: ["md5", "sha256", "xxh128"] });
    c.close();
  });

  it("round-trips put, get, sum and list in xxh128, and keeps its caches per algorithm", async () => {
    const { port, root } = await startTestServer();
    const c = await RawClient.ready(port);
    const data = randomBytes(200_000);
    const xxh = await xxhash128(data);
    const id = c.send({ cmd: "put", path: "a.bin", size: data.length, alg: "xxh128", hash: xxh });
    c.sendData(id, 0, data);
    const done = await c.reply();
    expect(done).toMatchObject({ ok: true, type: "done", size: data.length, alg: "xxh128", hash: xxh });
    expect(done.md5).toBeUndefined();
    expect((await readFile(path.join(root, "a.bin"))).equals(data)).toBe(true);

    // Verified on upload: the get carries the xxh128 up front, and no md5 is made up for it.
    const got = await c.get("a.bin", { alg: "xxh128" });
    expect(got.reply).toMatchObject({ ok: true, type: "file", alg: "xxh128", hash: xxh });
    expect(got.reply.md5).toBeUndefined();
    expect(got.data.equals(data)).toBe(true);

    // A listing in md5 knows no md5 of it yet: the xxh128 in the cache is no md5.
    const [plain] = (await c.request({ cmd: "list", path: "a.bin" })).entries as Record<string, unknown>[];
    expect(plain?.md5).toBeUndefined();
    expect(plain?.hash).toBeUndefined();
    const listed = await c.request({ cmd: "list", path: "/", alg: "xxh128" });
    expect(listed).toMatchObject({ ok: true, type: "entries", alg: "xxh128" });
    expect(listed.entries).toEqual([expect.objectContaining({ name: "a.bin", hash: xxh })]);
    // stat answers as a listing does: in its alg, echoed; without one, in md5 (unknown yet).
    const stated = await c.request({ cmd: "stat", path: "a.bin", alg: "xxh128" });
    expect(stated).toMatchObject({
      ok: true,
      type: "entry",
      alg: "xxh128",
      entry: { name: "a.bin", hash: xxh },
    });
    expect((stated.entry as Record<string, unknown>).md5).toBeUndefined();
    const statedMd5 = await c.request({ cmd: "stat", path: "a.bin" });
    expect(statedMd5.alg).toBeUndefined();
    expect((statedMd5.entry as Record<string, unknown>).hash).toBeUndefined();
    expect((statedMd5.entry as Record<string, unknown>).md5).toBeUndefined();

    expect(await c.request({ cmd: "sum", path: "a.bin", alg: "xxh128" })).toMatchObject({
      type: "sum",
      alg: "xxh128",
      hash: xxh,
    });
    // md5 is still the default, computed on its own; then both are known side by side.
    expect(await c.request({ cmd: "sum", path: "a.bin" })).toMatchObject({ type: "sum", md5: md5(data) });
    const [both] = (await c.request({ cmd: "list", path: "a.bin" })).entries as Record<string, unknown>[];
    expect(both?.md5).toBe(md5(data));
    c.close();
  });

  it("hashes a file it did not upload in sha256 with a trailer, and resumes a get by an xxh128 prefix", async () => {
    const { port, root } = await startTestServer();
    const data = randomBytes(2 * 1024 * 1024 + 5); // over the small-get size: the streamed road
    await writeFile(path.join(root, "local.bin"), data);
    const c = await RawClient.ready(port);
    const got = await c.get("local.bin", { alg: "sha256" });
    expect(got.reply).toMatchObject({ ok: true, type: "file", alg: "sha256", offset: 0 });
    expect(got.end).toMatchObject({ cmd: "end", alg: "sha256", hash: sha256(data) });
    expect(got.data.equals(data)).toBe(true);

    const offset = 1024 * 1024 + 3;
    const prefixHash = await xxhash128(data.subarray(0, offset));
    const resumed = await c.get("local.bin", { alg: "xxh128", offset, prefixHash });
    expect(resumed.reply).toMatchObject({ ok: true, type: "file", alg: "xxh128", offset });
    expect(resumed.end).toMatchObject({ cmd: "end", alg: "xxh128", hash: await xxhash128(data) });
    expect(resumed.data.equals(data.subarray(offset))).toBe(true);
    c.close();
  });

  it("takes a handshake put with an sha256 trailer, and refuses a wrong one", async () => {
    const { port } = await startTestServer();
    const c = await RawClient.ready(port);
    const data = randomBytes(1_500_000);
    const ready = await c.request({
      cmd: "put",
      path: "b.bin",
      size: data.length,
      alg: "sha256",
      handshake: true,
    });
    expect(ready).toMatchObject({ ok: true, type: "ready", offset: 0 });
    c.sendData(ready.id as number, 0, data);
    c.send({ cmd: "end", id: ready.id, alg: "sha256", hash: sha256(data) });
    expect(await c.reply()).toMatchObject({ type: "done", alg: "sha256", hash: sha256(data) });

    const id = c.send({ cmd: "put", path: "c.bin", size: 3, alg: "sha256" });
    c.sendData(id, 0, Buffer.from("abc"));
    c.send({ cmd: "end", id, alg: "sha256", hash: sha256(Buffer.from("abd")) });
    expect(await c.reply()).toMatchObject({ ok: false, id, code: "ECHECKSUM" });
    c.close();
  });

  it("answers an algorithm it does not offer with EALG, not a silent md5, and the session goes on", async () => {
    const { port, root } = await startTestServer();
    const c = await RawClient.ready(port);
    const data = Buffer.from("hello");
    const put = c.send({ cmd: "put", path: "x.txt", size: data.length, alg: "blake3", hash: "0".repeat(64) });
    c.sendData(put, 0, data); // the refused put's data is skipped by its size
    expect(await c.reply()).toMatchObject({ ok: false, id: put, code: "EALG" });
    await expect(readFile(path.join(root, "x.txt"))).rejects.toMatchObject({ code: "ENOENT" });
    expect(await c.request({ cmd: "sum", path: "x.txt", alg: "crc32" })).toMatchObject({
      ok: false,
      code: "EALG",
    });
    // An md5 in the md5 field under another alg is a malformed request, not a hash to compare.
    expect(
      await c.request({ cmd: "put", path: "y.txt", size: 0, alg: "xxh128", md5: md5(Buffer.alloc(0)) }),
    ).toMatchObject({ ok: false, code: "EPROTO" });
    expect(await c.put("z.txt", data)).toMatchObject({ ok: true, type: "done", md5: md5(data) });
    c.close();
  });

  it.each([
    ["a put in xxh128", { alg: "xxh128" }],
    ["a put in md5", {}],
  ])(
    "resumes a partial left by %s with a put in xxh128: the held prefix is hashed anew in xxh128",
    async (_, first) => {
      const { port, root } = await startTestServer();
      const data = randomBytes(3 * 1024 * 1024 + 5);
      const sent = 1_234_567;
      await leavePartial(port, root, data, sent, first);
      const c = await RawClient.ready(port);
      const whole = await xxhash128(data);
      const ready = await c.request({
        cmd: "put",
        path: "p.bin",
        size: data.length,
        alg: "xxh128",
        hash: whole,
        handshake: true,
      });
      expect(ready).toMatchObject({ ok: true, type: "ready", alg: "xxh128", offset: sent });
      expect(ready.prefixHash).toBe(await xxhash128(data.subarray(0, sent)));
      expect(ready.prefixMd5).toBeUndefined();
      c.sendData(ready.id as number, sent, data.subarray(sent));
      expect(await c.reply()).toMatchObject({ ok: true, type: "done", alg: "xxh128", hash: whole });
      expect((await readFile(path.join(root, "p.bin"))).equals(data)).toBe(true);
      c.close();
    },
  );
});
