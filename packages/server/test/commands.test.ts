import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Entry } from "@ferry/protocol";
import { describe, expect, it } from "vitest";
import { md5, RawClient } from "./helpers/raw-client.js";
import { stagingFiles, startTestServer } from "./helpers/server.js";

describe("put and get", () => {
  it("round-trips a file and answers done with the server's md5 and size", async () => {
    const { port, root } = await startTestServer();
    const c = await RawClient.ready(port);
    const data = randomBytes(3 * 1024 * 1024 + 17);
    const done = await c.put("a.bin", data);
    expect(done).toMatchObject({ ok: true, type: "done", size: data.length, md5: md5(data) });
    expect(md5(await readFile(path.join(root, "a.bin")))).toBe(md5(data));
    const got = await c.get("a.bin");
    expect(got.reply).toMatchObject({ ok: true, type: "file", size: data.length, offset: 0, md5: md5(data) });
    expect(got.end).toBeUndefined(); // known from the upload: no trailer needed
    expect(md5(got.data)).toBe(md5(data));
    expect(await stagingFiles(root)).toEqual([]);
    c.close();
  });

  it.each([
    ["on a worker thread", true],
    ["inline", false],
  ])("round-trips a 40 MiB file (hashed %s) with a handshake put", async (_, hashThread) => {
    const { port, root } = await startTestServer({ fsync: false, hashThread }, true);
    const c = await RawClient.ready(port);
    const data = randomBytes(40 * 1024 * 1024 + 3);
    const ready = await c.request({ cmd: "put", path: "big.bin", size: data.length, handshake: true });
    expect(ready).toMatchObject({ ok: true, type: "ready", offset: 0 });
    c.sendData(ready.id as number, 0, data);
    c.send({ cmd: "end", id: ready.id, md5: md5(data) });
    expect(await c.reply()).toMatchObject({ ok: true, type: "done", size: data.length, md5: md5(data) });
    expect(md5(await readFile(path.join(root, "big.bin")))).toBe(md5(data));
    await writeFile(path.join(root, "copy.bin"), data);
    const got = await c.get("copy.bin");
    expect(got.end?.md5).toBe(md5(data));
    expect(got.data.equals(data)).toBe(true);
    c.close();
  });

  it("hashes a big file it did not upload while sending it, with an end trailer, then remembers", async () => {
    const { port, root } = await startTestServer();
    const data = randomBytes(2 * 1024 * 1024 + 1);
    await writeFile(path.join(root, "local.bin"), data);
    const c = await RawClient.ready(port);
    const first = await c.get("/local.bin");
    expect(first.reply.md5).toBeUndefined();
    expect(first.end).toMatchObject({ cmd: "end", md5: md5(data) });
    expect(first.data.equals(data)).toBe(true);
    const second = await c.get("local.bin");
    expect(second.reply.md5).toBe(md5(data));
    expect(second.end).toBeUndefined();
    c.close();
  });

  it("sends a small file it did not upload with its md5 in the reply (read whole, no trailer)", async () => {
    const { port, root } = await startTestServer();
    const data = randomBytes(100_000);
    await writeFile(path.join(root, "local.bin"), data);
    const c = await RawClient.ready(port);
    for (let i = 0; i < 2; i++) {
      const got = await c.get("/local.bin");
      expect(got.reply).toMatchObject({ ok: true, type: "file", size: data.length, md5: md5(data) });
      expect(got.end).toBeUndefined();
      expect(got.data.equals(data)).toBe(true);
    }
    // A pipelined request behind it is answered after the whole file.
    c.send({ cmd: "get", path: "local.bin" });
    c.send({ cmd: "stat", path: "local.bin" });
    expect(await c.reply()).toMatchObject({ type: "file" });
    const frame = await c.frame();
    expect(frame?.header).toMatchObject({ cmd: "data", size: data.length });
    for await (const _ of frame?.payload ?? []) {
    }
    expect(await c.reply()).toMatchObject({ type: "entry", entry: { size: data.length } });
    c.close();
  });

  it("accepts a streamed put with an end trailer instead of an md5 up front", async () => {
    const { port, root } = await startTestServer();
    const c = await RawClient.ready(port);
    const data = Buffer.from("hello");
    const id = c.send({ cmd: "put", path: "t.txt", size: 5 });
    c.sendData(id, 0, data);
    c.send({ cmd: "end", id, md5: md5(data) });
    expect(await c.reply()).toMatchObject({ ok: true, id, type: "done", md5: md5(data) });
    expect(await readFile(path.join(root, "t.txt"), "utf8")).toBe("hello");
    c.close();
  });

  it("handles pipelined requests in order, as in PROTOCOL.md §11", async () => {
    const { port } = await startTestServer();
    const c = await RawClient.ready(port);
    const data = Buffer.from("hello");
    const put = c.send({ cmd: "put", path: "a.txt", size: 5 });
    c.sendData(put, 0, data);
    c.send({ cmd: "end", id: put, md5: md5(data) });
    const get = c.send({ cmd: "get", path: "a.txt" });
    const st = c.send({ cmd: "stat", path: "a.txt" });
    const bye = c.send({ cmd: "bye" });
    expect(await c.reply()).toMatchObject({ id: put, type: "done" });
    expect(await c.reply()).toMatchObject({ id: get, type: "file", md5: md5(data) });
    const frame = await c.frame();
    expect(frame?.header).toMatchObject({ cmd: "data", id: get, size: 5 });
    for await (const _ of frame?.payload ?? []);
    expect(await c.reply()).toMatchObject({ id: st, type: "entry", entry: { name: "a.txt", size: 5 } });
    expect(await c.reply()).toMatchObject({ id: bye, type: "ok" });
    await c.closed;
  });

  it("refuses to overwrite without overwrite:true, and replaces with it", async () => {
    const { port, root } = await startTestServer();
    const c = await RawClient.ready(port);
    await c.put("f", Buffer.from("one"));
    expect(await c.put("f", Buffer.from("two"))).toMatchObject({ ok: false, code: "EEXIST" });
    expect(await readFile(path.join(root, "f"), "utf8")).toBe("one");
    expect(await c.put("f", Buffer.from("three"), { overwrite: true })).toMatchObject({ ok: true, size: 5 });
    expect(await readFile(path.join(root, "f"), "utf8")).toBe("three");
    // The refused put's payload was discarded and the stream stayed in step:
    expect(await c.request({ cmd: "stat", path: "f" })).toMatchObject({ ok: true, entry: { size: 5 } });
    c.close();
  });

  it("needs parents:true for a missing directory", async () => {
    const { port, root } = await startTestServer();
    const c = await RawClient.ready(port);
    expect(await c.put("x/y/z.txt", Buffer.from("z"))).toMatchObject({ ok: false, code: "ENOENT" });
    expect(await c.put("x/y/z.txt", Buffer.from("z"), { parents: true })).toMatchObject({ ok: true });
    expect(await readFile(path.join(root, "x/y/z.txt"), "utf8")).toBe("z");
    expect(await c.put("x/y/z.txt/w", Buffer.from("w"), { parents: true })).toMatchObject({
      ok: false,
      code: "ENOTDIR",
    });
    expect(await c.put("x", Buffer.from("w"), { overwrite: true })).toMatchObject({
      ok: false,
      code: "EISDIR",
    });
    c.close();
  });

  it("round-trips Unicode names byte for byte", async () => {
    const { port, root } = await startTestServer();
    const c = await RawClient.ready(port);
    const names = ["日本語.txt", "emoji 🚀.bin", "e\u0301.txt", "\u00e9.txt", "with space and 'quote'"];
    for (const name of names) expect(await c.put(name, Buffer.from(name))).toMatchObject({ ok: true });
    const listed = (await c.list("/")) as Entry[];
    const expected = [...names].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    expect(listed.map((e) => e.name)).toEqual(expected);
    for (const name of names) {
      expect(await readFile(path.join(root, name), "utf8")).toBe(name);
      expect((await c.get(name)).data.toString()).toBe(name);
    }
    c.close();
  });

  it("refuses at admission: ETOOBIG over --max-file-size, ENOSPC over the free space", async () => {
    const { port, root } = await startTestServer({ maxFileSize: 1000 });
    const c = await RawClient.ready(port);
    expect(await c.request({ cmd: "put", path: "big", size: 1001, handshake: true })).toMatchObject({
      ok: false,
      code: "ETOOBIG",
    });
    expect(await c.put("ok", Buffer.alloc(1000))).toMatchObject({ ok: true });
    const { port: port2 } = await startTestServer();
    const d = await RawClient.ready(port2);
    const huge = 2 ** 52; // far beyond any test machine's free space
    expect(await d.request({ cmd: "put", path: "huge", size: huge, handshake: true })).toMatchObject({
      ok: false,
      code: "ENOSPC",
    });
    expect(await stagingFiles(root)).toEqual([]);
    c.close();
    d.close();
  });

  it.each([
    ["small", 200_000],
    ["big", 3 * 1024 * 1024],
  ])(
    "resumes a download (%s file) after checking the prefix md5, and starts over on a mismatch",
    async (_, size) => {
      const { port, root } = await startTestServer();
      const data = randomBytes(size);
      await writeFile(path.join(root, "r.bin"), data);
      const c = await RawClient.ready(port);
      const prefix = data.subarray(0, 50_000);
      const resumed = await c.get("r.bin", { offset: 50_000, prefixMd5: md5(prefix) });
      expect(resumed.reply.offset).toBe(50_000);
      expect(resumed.data.equals(data.subarray(50_000))).toBe(true);
      // The hash covers the whole file, whether up front or in the trailer.
      expect(resumed.end?.md5 ?? resumed.reply.md5).toBe(md5(data));
      const wrong = await c.get("r.bin", { offset: 50_000, prefixMd5: md5(Buffer.from("nope")) });
      expect(wrong.reply.offset).toBe(0);
      expect(wrong.data.equals(data)).toBe(true);
      const past = await c.get("r.bin", { offset: size + 1, prefixMd5: md5(data) });
      expect(past.reply.offset).toBe(0);
      c.close();
    },
  );

  it("get of a directory is EISDIR, of a missing file ENOENT", async () => {
    const { port, root } = await startTestServer();
    await mkdir(path.join(root, "d"));
    const c = await RawClient.ready(port);
    expect((await c.get("d")).reply).toMatchObject({ ok: false, code: "EISDIR" });
    expect((await c.get("nope")).reply).toMatchObject({ ok: false, code: "ENOENT" });
    expect((await c.get("/")).reply).toMatchObject({ ok: false, code: "EISDIR" });
    c.close();
  });
});

describe("list, stat, mkdir, delete, rename", () => {
  it("lists sorted entries with types, sizes and known md5s, hiding the staging folder", async () => {
    const { port, root } = await startTestServer();
    const c = await RawClient.ready(port);
    await c.put("b.txt", Buffer.from("bb"));
    await mkdir(path.join(root, "a-dir"));
    await writeFile(path.join(root, "c.txt"), "ccc");
    const entries = (await c.list("/")) as Entry[];
    expect(entries.map((e) => [e.name, e.type, e.size])).toEqual([
      ["a-dir", "dir", 0],
      ["b.txt", "file", 2],
      ["c.txt", "file", 3],
    ]);
    expect(entries[1]?.md5).toBe(md5(Buffer.from("bb")));
    expect(entries[2]?.md5).toBeUndefined();
    expect(await c.list("b.txt")).toMatchObject([{ name: "b.txt", type: "file", size: 2 }]);
    expect(await c.list("missing")).toMatchObject({ ok: false, code: "ENOENT" });
    c.close();
  });

  it("streams a directory of 100,000 entries in many frames, sorted", async () => {
    // On tmpfs: creating 100,000 files on a slow disk would dominate the whole suite.
    const { port, root } = await startTestServer({}, true);
    const dir = path.join(root, "many");
    await mkdir(dir);
    const count = 100_000;
    // xargs touch: 100,000 files in about a second, where 100,000 writeFile calls take several.
    execFileSync("sh", ["-c", `seq -f 'f%06g' 0 ${count - 1} | xargs touch`], { cwd: dir });
    const c = await RawClient.ready(port);
    const id = c.send({ cmd: "list", path: "many" });
    let frames = 0;
    let total = 0;
    let last = "";
    for (;;) {
      const frame = await c.frame();
      if (!frame) throw new Error("closed");
      const r = frame.header;
      expect(r.id).toBe(id);
      frames++;
      const entries = r.entries as Entry[];
      for (const e of entries) {
        if (!(e.name > last)) throw new Error(`${e.name} after ${last}: not sorted`);
        last = e.name;
      }
      total += entries.length;
      if (r.more === false) break;
    }
    expect(total).toBe(count);
    expect(frames).toBeGreaterThan(10);
    c.close();
  });

  it("stat gives one entry; the root is named /", async () => {
    const { port } = await startTestServer();
    const c = await RawClient.ready(port);
    await c.put("s.txt", Buffer.from("1234"));
    expect(await c.request({ cmd: "stat", path: "s.txt" })).toMatchObject({
      ok: true,
      type: "entry",
      entry: { name: "s.txt", type: "file", size: 4, md5: md5(Buffer.from("1234")) },
    });
    expect(await c.request({ cmd: "stat", path: "/" })).toMatchObject({ entry: { name: "/", type: "dir" } });
    expect(await c.request({ cmd: "stat", path: "nope" })).toMatchObject({ ok: false, code: "ENOENT" });
    c.close();
  });

  it("mkdir with and without parents", async () => {
    const { port, root } = await startTestServer();
    const c = await RawClient.ready(port);
    expect(await c.request({ cmd: "mkdir", path: "a/b/c" })).toMatchObject({ ok: false, code: "ENOENT" });
    expect(await c.request({ cmd: "mkdir", path: "a/b/c", parents: true })).toMatchObject({ ok: true });
    expect(await c.request({ cmd: "mkdir", path: "a/b/c", parents: true })).toMatchObject({ ok: true });
    expect(await c.request({ cmd: "mkdir", path: "a/b/c" })).toMatchObject({ ok: false, code: "EEXIST" });
    expect(await c.request({ cmd: "mkdir", path: "a/d" })).toMatchObject({ ok: true });
    expect((await stat(path.join(root, "a/b/c"))).isDirectory()).toBe(true);
    await c.put("a/f", Buffer.from("f"));
    expect(await c.request({ cmd: "mkdir", path: "a/f", parents: true })).toMatchObject({
      ok: false,
      code: "EEXIST",
    });
    c.close();
  });

  it("delete: files, empty directories, recursive on request, never the root", async () => {
    const { port, root } = await startTestServer();
    const c = await RawClient.ready(port);
    await c.put("d/x/f.txt", Buffer.from("x"), { parents: true });
    expect(await c.request({ cmd: "delete", path: "d" })).toMatchObject({ ok: false, code: "ENOTEMPTY" });
    expect(await c.request({ cmd: "delete", path: "d/x/f.txt" })).toMatchObject({ ok: true });
    expect(await c.request({ cmd: "delete", path: "d/x" })).toMatchObject({ ok: true });
    await c.put("d/y/g.txt", Buffer.from("y"), { parents: true });
    expect(await c.request({ cmd: "delete", path: "d", recursive: true })).toMatchObject({ ok: true });
    expect(await c.request({ cmd: "delete", path: "d" })).toMatchObject({ ok: false, code: "ENOENT" });
    expect(await c.request({ cmd: "delete", path: "/", recursive: true })).toMatchObject({
      ok: false,
      code: "EBADPATH",
    });
    expect(await stat(root)).toBeTruthy();
    c.close();
  });

  it("rename within the root, EEXIST unless overwrite", async () => {
    const { port, root } = await startTestServer();
    const c = await RawClient.ready(port);
    await c.put("a.txt", Buffer.from("a"));
    await c.put("b.txt", Buffer.from("b"));
    await c.request({ cmd: "mkdir", path: "sub" });
    expect(await c.request({ cmd: "rename", from: "a.txt", to: "b.txt" })).toMatchObject({
      ok: false,
      code: "EEXIST",
    });
    expect(await c.request({ cmd: "rename", from: "a.txt", to: "sub/a.txt" })).toMatchObject({ ok: true });
    expect(await c.request({ cmd: "rename", from: "sub/a.txt", to: "b.txt", overwrite: true })).toMatchObject(
      { ok: true },
    );
    expect(await readFile(path.join(root, "b.txt"), "utf8")).toBe("a");
    expect(await c.request({ cmd: "rename", from: "missing", to: "z" })).toMatchObject({
      ok: false,
      code: "ENOENT",
    });
    expect(await c.request({ cmd: "rename", from: "sub", to: "sub/inner" })).toMatchObject({
      ok: false,
      code: "EBADPATH",
    });
    c.close();
  });

  it("--read-only answers every write with EACCES and still serves reads", async () => {
    const { port, root } = await startTestServer({ readOnly: true });
    await writeFile(path.join(root, "r.txt"), "r");
    const c = await RawClient.ready(port);
    expect(await c.put("w.txt", Buffer.from("w"))).toMatchObject({ ok: false, code: "EACCES" });
    expect(await c.request({ cmd: "put", path: "w.txt", size: 1, handshake: true })).toMatchObject({
      code: "EACCES",
    });
    expect(await c.request({ cmd: "mkdir", path: "m" })).toMatchObject({ code: "EACCES" });
    expect(await c.request({ cmd: "delete", path: "r.txt" })).toMatchObject({ code: "EACCES" });
    expect(await c.request({ cmd: "rename", from: "r.txt", to: "s.txt" })).toMatchObject({ code: "EACCES" });
    expect((await c.get("r.txt")).data.toString()).toBe("r");
    c.close();
  });
});
