import { randomBytes } from "node:crypto";
import { mkdir, stat, symlink, utimes, writeFile } from "node:fs/promises";
import path from "node:path";
import { encodeFrame } from "@ferry/protocol";
import { describe, expect, it } from "vitest";
import { type Header, md5, RawClient } from "./helpers/raw-client.js";
import { stagingFiles, startTestServer } from "./helpers/server.js";
import { until } from "./helpers/wait.js";

const MiB = 1024 * 1024;
/** An mtime with a millisecond part that `ms / 1000` would round one millisecond down. */
const MTIME = 1764272986718;

describe("sum", () => {
  it("hashes a file the server never saw, with the size and mtime of the version hashed", async () => {
    const { port, root } = await startTestServer({ tls: false });
    const data = randomBytes(3 * MiB + 5);
    await writeFile(path.join(root, "planted.bin"), data);
    await utimes(path.join(root, "planted.bin"), new Date(MTIME), new Date(MTIME));
    const c = await RawClient.ready(port);
    const reply = await c.request({ cmd: "sum", path: "planted.bin" });
    const st = await stat(path.join(root, "planted.bin"));
    expect(reply).toMatchObject({
      ok: true,
      type: "sum",
      size: data.length,
      mtime: Math.floor(st.mtimeMs),
      md5: md5(data),
      alg: "md5",
    });
    // Remembered: the listing now carries it, and a get sends it up front (no trailer).
    const [entry] = (await c.list("planted.bin")) as { md5?: string }[];
    expect(entry?.md5).toBe(md5(data));
    expect((await c.get("planted.bin")).end).toBeUndefined();
    c.close();
  });

  it("answers the md5 of an upload from the cache, and of an empty file", async () => {
    const { port } = await startTestServer({ tls: false });
    const c = await RawClient.ready(port);
    const data = randomBytes(1000);
    await c.put("up.bin", data);
    expect(await c.request({ cmd: "sum", path: "/up.bin" })).toMatchObject({ ok: true, md5: md5(data) });
    await c.put("empty", Buffer.alloc(0));
    expect(await c.request({ cmd: "sum", path: "empty" })).toMatchObject({
      ok: true,
      size: 0,
      md5: "d41d8cd98f00b204e9800998ecf8427e",
    });
    c.close();
  });

  it("hashes again after the file changed behind the server's back", async () => {
    const { port, root } = await startTestServer({ tls: false });
    const c = await RawClient.ready(port);
    await c.put("f", Buffer.from("one"));
    await writeFile(path.join(root, "f"), "two, longer");
    expect(await c.request({ cmd: "sum", path: "f" })).toMatchObject({
      md5: md5(Buffer.from("two, longer")),
    });
    c.close();
  });

  it("follows a link inside the root and refuses what a get refuses", async () => {
    const { port, root } = await startTestServer({ tls: false });
    await mkdir(path.join(root, "dir"));
    await writeFile(path.join(root, "target.txt"), "pointed at");
    await symlink("target.txt", path.join(root, "link"));
    await symlink("../../canary/secret.txt", path.join(root, "out"));
    const c = await RawClient.ready(port);
    expect(await c.request({ cmd: "sum", path: "link" })).toMatchObject({
      ok: true,
      md5: md5(Buffer.from("pointed at")),
    });
    const codes: Record<string, unknown> = {};
    for (const p of ["missing", "dir", "/", "out", "../x", "target.txt/"]) {
      codes[p] = (await c.request({ cmd: "sum", path: p })).code;
    }
    expect(codes).toEqual({
      missing: "ENOENT",
      dir: "EISDIR",
      "/": "EISDIR",
      out: "EBADPATH",
      "../x": "EBADPATH",
      "target.txt/": "ENOTDIR",
    });
    // The session goes on after each error.
    expect(await c.request({ cmd: "stat", path: "target.txt" })).toMatchObject({ ok: true });
    c.close();
  });

  it("pipelined sums, gets and a put in between are answered in request order, each seeing the put", async () => {
    const { port, root } = await startTestServer({ tls: false });
    const files = Array.from({ length: 40 }, (_, i) => randomBytes(i * 997 + (i % 3) * MiB));
    for (const [i, f] of files.entries()) await writeFile(path.join(root, `f${i}`), f);
    const c = await RawClient.ready(port);
    const later = randomBytes(777);
    const burst: Buffer[] = [];
    let id = 100;
    for (let i = 0; i < files.length; i++) burst.push(encodeFrame({ cmd: "sum", id: id++, path: `f${i}` }));
    // A put that replaces f0, then a sum of it: the sum must see the new content.
    burst.push(
      encodeFrame({ cmd: "put", id: id++, path: "f0", size: later.length, md5: md5(later), overwrite: true }),
    );
    burst.push(encodeFrame({ cmd: "data", id: id - 1, offset: 0, size: later.length }), later);
    burst.push(encodeFrame({ cmd: "sum", id: id++, path: "f0" }));
    c.sendRaw(Buffer.concat(burst));
    const replies: Header[] = [];
    for (let i = 0; i < files.length + 2; i++) replies.push(await c.reply());
    expect(replies.map((r) => r.id)).toEqual(Array.from({ length: files.length + 2 }, (_, i) => 100 + i));
    for (const [i, f] of files.entries()) expect(replies[i]).toMatchObject({ type: "sum", md5: md5(f) });
    expect(replies[files.length]).toMatchObject({ type: "done" });
    expect(replies[files.length + 1]).toMatchObject({ type: "sum", md5: md5(later) });
    c.close();
  });
});

describe("put with mtime", () => {
  it.each([
    ["a streamed put", 4096, false],
    ["a handshake put", 3 * MiB, true],
  ])("%s: the committed file has the mtime, to the millisecond", async (_, size, handshake) => {
    const { port, root } = await startTestServer({ fsync: true, tls: false });
    const c = await RawClient.ready(port);
    const data = randomBytes(size);
    let done: Header;
    if (handshake) {
      const ready = await c.request({ cmd: "put", path: "m.bin", size, handshake: true, mtime: MTIME });
      c.sendData(ready.id as number, 0, data);
      c.send({ cmd: "end", id: ready.id, md5: md5(data) });
      done = await c.reply();
    } else {
      done = await c.put("m.bin", data, { mtime: MTIME });
    }
    expect(done).toMatchObject({ ok: true, type: "done" });
    expect(Math.floor((await stat(path.join(root, "m.bin"))).mtimeMs)).toBe(MTIME);
    expect(await c.request({ cmd: "stat", path: "m.bin" })).toMatchObject({ entry: { mtime: MTIME } });
    expect((await c.get("m.bin")).reply).toMatchObject({ mtime: MTIME, md5: md5(data) });
    expect(await c.request({ cmd: "sum", path: "m.bin" })).toMatchObject({ mtime: MTIME, md5: md5(data) });
    c.close();
  });

  it("without mtime the file is dated at its commit", async () => {
    const { port, root } = await startTestServer({ tls: false });
    const c = await RawClient.ready(port);
    const before = Date.now();
    await c.put("now.txt", Buffer.from("now"));
    expect((await stat(path.join(root, "now.txt"))).mtimeMs).toBeGreaterThanOrEqual(before - 1000);
    c.close();
  });

  it("a resumed upload gets the mtime of the put that completes it", async () => {
    const { port, root } = await startTestServer({ tls: false });
    const data = randomBytes(4 * MiB);
    const first = await RawClient.ready(port);
    const ready = await first.request({ cmd: "put", path: "r.bin", size: data.length, handshake: true });
    first.sendData(ready.id as number, 0, data.subarray(0, 2 * MiB), data.length);
    // Half the payload, then the connection is gone: the server keeps a partial.
    await until(
      async () => ((await stat(path.join(root, "r.bin")).catch(() => null)) === null ? true : undefined),
      "nothing under the name",
    );
    first.close();
    await until(
      async () => ((await stagingFiles(root)).some((n) => n.endsWith(".partial")) ? true : undefined),
      "the partial to be kept",
    );
    const c = await RawClient.ready(port);
    const again = await c.request({
      cmd: "put",
      path: "r.bin",
      size: data.length,
      handshake: true,
      mtime: MTIME,
    });
    const offset = again.offset as number;
    expect(offset).toBeGreaterThan(0);
    c.sendData(again.id as number, offset, data.subarray(offset));
    c.send({ cmd: "end", id: again.id, md5: md5(data) });
    expect(await c.reply()).toMatchObject({ ok: true, type: "done", md5: md5(data) });
    expect(Math.floor((await stat(path.join(root, "r.bin"))).mtimeMs)).toBe(MTIME);
    c.close();
  });
});
