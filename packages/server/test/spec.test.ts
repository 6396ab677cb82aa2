import { randomBytes } from "node:crypto";
import { mkdir, readFile, stat, symlink, utimes, writeFile } from "node:fs/promises";
import path from "node:path";
import { authAnswer, encodeFrame, MAX_SIZE } from "@ferry/protocol";
import { describe, expect, it } from "vitest";
import { type Header, md5, RawClient } from "./helpers/raw-client.js";
import { stagingFiles, startTestServer } from "./helpers/server.js";
import { assertServes, until } from "./helpers/wait.js";

/**
 * What PROTOCOL.md promises a client written from it alone, checked against the real server: the
 * points an independent implementation found unclear (issue 9, item 7).
 */

/** A frame whose header bytes are exactly `json` (numbers spelled as the test wants them). */
function rawHeader(json: string): Buffer {
  const body = Buffer.from(json);
  const prefix = Buffer.alloc(4);
  prefix.writeUInt32BE(body.length);
  return Buffer.concat([prefix, body]);
}

/** The rest of the connection: the frames the server still sends, until it closes. */
async function untilClosed(c: RawClient): Promise<Header[]> {
  const frames: Header[] = [];
  for (let f = await c.frame(); f; f = await c.frame()) frames.push(f.header);
  await c.closed;
  return frames;
}

describe("version negotiation does not depend on the shape of a version-1 hello (§3)", () => {
  const hellos: Array<[string, string, number | null]> = [
    ["version 2 without client", '{"cmd":"hello","id":1,"version":2}', 1],
    ["version 2 with odd and extra fields", '{"cmd":"hello","id":1,"version":2,"client":7,"auth":[1]}', 1],
    ["version 2 without an id", '{"cmd":"hello","version":2}', null],
    ["version 0", '{"cmd":"hello","id":1,"version":0,"client":"x"}', 1],
    ["version as a string", '{"cmd":"hello","id":1,"version":"1","client":"x"}', 1],
    ["no version", '{"cmd":"hello","id":1,"client":"x"}', 1],
    ["version 1.5", '{"cmd":"hello","id":1,"version":1.5,"client":"x"}', 1],
  ];
  it.each(hellos)("%s: EVERSION, then the connection closes", async (_why, json, id) => {
    const { port } = await startTestServer();
    const c = await RawClient.connect(port);
    c.sendRaw(rawHeader(json));
    expect(await untilClosed(c)).toEqual([{ ok: false, id, code: "EVERSION", message: expect.any(String) }]);
    await assertServes(port);
  });

  it("a version-1 hello without client is EPROTO (client is required), then the connection closes", async () => {
    const { port } = await startTestServer();
    const c = await RawClient.connect(port);
    c.sendRaw(rawHeader('{"cmd":"hello","id":1,"version":1}'));
    expect(await untilClosed(c)).toMatchObject([{ ok: false, id: 1, code: "EPROTO" }]);
  });

  it("version written 1.0 or 1e0 is version 1", async () => {
    const { port } = await startTestServer();
    for (const v of ["1.0", "1e0"]) {
      const c = await RawClient.connect(port);
      c.sendRaw(rawHeader(`{"cmd":"hello","id":1,"version":${v},"client":"x"}`));
      expect(await c.reply()).toMatchObject({ ok: true, id: 1, type: "hello", version: 1 });
      c.close();
    }
  });
});

describe("auth: hmac is lower-case hex (§3)", () => {
  it("the right answer in upper case is EAUTH, and the connection closes", async () => {
    const { port } = await startTestServer({ secret: "s3cret" });
    const c = await RawClient.connect(port);
    const hello = await c.request({ cmd: "hello", version: 1, client: "t" });
    const hmac = authAnswer("s3cret", hello.challenge as string).toUpperCase();
    c.send({ cmd: "auth", hmac });
    expect(await untilClosed(c)).toMatchObject([{ ok: false, code: "EAUTH" }]);
    await assertServes(port, "s3cret");
  });
});

describe("an error with id null is the server's last frame (§5)", () => {
  it("a header whose id cannot be read: earlier requests are answered, later ones are not", async () => {
    const { port } = await startTestServer();
    const c = await RawClient.ready(port);
    c.send({ cmd: "stat", id: 1, path: "/" });
    c.sendRaw(rawHeader('{"cmd":"stat","id":"two","path":"/"}'));
    c.send({ cmd: "stat", id: 3, path: "/" });
    const frames = await untilClosed(c);
    expect(frames).toMatchObject([
      { ok: true, id: 1, type: "entry" },
      { ok: false, id: null, code: "EPROTO" },
    ]);
    expect(frames).toHaveLength(2);
    await assertServes(port);
  });
});

describe("a framing error where a put's data is due (§5.1)", () => {
  it.each([false, true])(
    "handshake %s: the put is answered first, then the id-null frame",
    async (handshake) => {
      const { port, root } = await startTestServer();
      const c = await RawClient.ready(port);
      const id = c.send({ cmd: "put", path: "p.bin", size: 10, handshake });
      if (handshake) expect(await c.reply()).toMatchObject({ ok: true, id, type: "ready" });
      const prefix = Buffer.alloc(4);
      prefix.writeUInt32BE(0xffffffff);
      c.sendRaw(prefix);
      expect(await untilClosed(c)).toMatchObject([
        { ok: false, id, code: "ETOOBIG" },
        { ok: false, id: null, code: "ETOOBIG" },
      ]);
      expect(await stagingFiles(root)).toEqual([]);
      await assertServes(port);
    },
  );
});

describe("numbers: a JSON number equal to an integer is that integer (§1)", () => {
  it("sizes, offsets and ids written 5.0, 5e0 or 0.5e1 are accepted", async () => {
    const { port, root } = await startTestServer();
    const c = await RawClient.ready(port);
    const data = Buffer.from("hello");
    c.sendRaw(rawHeader(`{"cmd":"put","id":2.0,"path":"n.txt","size":5e0,"md5":"${md5(data)}"}`));
    c.sendRaw(rawHeader('{"cmd":"data","id":2,"offset":0.0,"size":0.5e1}'));
    c.sendRaw(data);
    expect(await c.reply()).toMatchObject({ ok: true, id: 2, type: "done", size: 5 });
    expect(await readFile(path.join(root, "n.txt"), "utf8")).toBe("hello");
    c.close();
  });

  it.each([
    ["5.5", "EPROTO"],
    ["1e400", "EPROTO"],
    ["-1", "EPROTO"],
    ["9007199254740992", "EPROTO"],
  ])("size %s is rejected", async (size, code) => {
    const { port } = await startTestServer();
    const c = await RawClient.ready(port);
    c.sendRaw(rawHeader(`{"cmd":"put","id":2,"path":"n.txt","size":${size}}`));
    expect(await c.reply()).toMatchObject({ ok: false, id: 2, code });
    expect(await c.request({ cmd: "stat", path: "/" })).toMatchObject({ ok: true });
    c.close();
  });
});

describe("header sizes: the server never sends a header over 32 KiB (§1)", () => {
  it("holds for a listing whose entries fill each frame's budget exactly", async () => {
    const { port, root } = await startTestServer();
    // Entries of exactly 255 bytes of JSON (256 with the comma) fill a 32 KiB budget to the byte,
    // which is where the reply's own fields would tip a frame over.
    const mtime = new Date(1763942400000);
    const shell = JSON.stringify({ name: "", type: "file", size: 0, mtime: mtime.getTime() });
    const nameLength = 255 - Buffer.byteLength(shell);
    for (let i = 0; i < 400; i++) {
      const name = `${String(i).padStart(4, "0")}`.padEnd(nameLength, "x");
      await writeFile(path.join(root, name), "");
      await utimes(path.join(root, name), mtime, mtime);
    }
    const c = await RawClient.ready(port);
    const id = c.send({ cmd: "list", path: "/" });
    let frames = 0;
    let entries = 0;
    for (;;) {
      const reply = await c.reply();
      expect(reply).toMatchObject({ ok: true, id, type: "entries" });
      expect(Buffer.byteLength(JSON.stringify(reply))).toBeLessThanOrEqual(32 * 1024);
      frames++;
      entries += (reply.entries as unknown[]).length;
      if (reply.more === false) break;
    }
    expect(entries).toBe(400);
    expect(frames).toBeGreaterThan(2);
    c.close();
  });

  it("holds for an error that quotes a 4096-byte path of escaped characters", async () => {
    const { port } = await startTestServer();
    const c = await RawClient.ready(port);
    const p = Array.from({ length: 16 }, () => "\u0001".repeat(255)).join("/");
    const reply = await c.request({ cmd: "stat", path: p });
    expect(reply).toMatchObject({ ok: false, code: "ENOENT" });
    expect(Buffer.byteLength(JSON.stringify(reply))).toBeLessThanOrEqual(32 * 1024);
    c.close();
  });
});

describe("the order of checks for put (§4): the first that applies is the answer", () => {
  interface Case {
    why: string;
    put: Header;
    code: string;
    options?: { readOnly?: boolean; maxFileSize?: number };
  }
  const cases: Case[] = [
    {
      why: "shape of the header before read-only",
      put: { path: "a", size: -1 },
      code: "EPROTO",
      options: { readOnly: true },
    },
    {
      why: "an empty path is part of the shape",
      put: { path: "", size: 1 },
      code: "EBADPATH",
      options: { readOnly: true },
    },
    {
      why: "read-only before the path rules",
      put: { path: "../x", size: 1 },
      code: "EACCES",
      options: { readOnly: true },
    },
    {
      why: "path rules before the size limit",
      put: { path: "../x", size: 100 },
      code: "EBADPATH",
      options: { maxFileSize: 10 },
    },
    {
      why: "the root before the size limit",
      put: { path: "/", size: 100 },
      code: "EISDIR",
      options: { maxFileSize: 10 },
    },
    {
      why: "size limit before the parent",
      put: { path: "missing/x", size: 100 },
      code: "ETOOBIG",
      options: { maxFileSize: 10 },
    },
    { why: "a missing parent before free space", put: { path: "missing/x", size: MAX_SIZE }, code: "ENOENT" },
    { why: "a file as parent before free space", put: { path: "f.txt/x", size: MAX_SIZE }, code: "ENOTDIR" },
    {
      why: "a directory target, even with overwrite",
      put: { path: "d", size: MAX_SIZE, overwrite: true },
      code: "EISDIR",
    },
    { why: "an existing file before free space", put: { path: "f.txt", size: MAX_SIZE }, code: "EEXIST" },
    { why: "free space last", put: { path: "f.txt", size: MAX_SIZE, overwrite: true }, code: "ENOSPC" },
  ];
  for (const handshake of [false, true]) {
    it.each(cases)(
      `${handshake ? "handshake" : "streamed"}: $why ($code)`,
      async ({ put, code, options }) => {
        const { port, root } = await startTestServer(options);
        await mkdir(path.join(root, "d"));
        await writeFile(path.join(root, "f.txt"), "old");
        const c = await RawClient.ready(port);
        // The answer comes before any payload is sent (a refused put is answered at once).
        expect(await c.request({ cmd: "put", ...put, handshake })).toMatchObject({ ok: false, code });
        c.close();
        expect(await readFile(path.join(root, "f.txt"), "utf8")).toBe("old");
      },
    );
  }

  it("directories made for parents stay when the put is then refused", async () => {
    const { port, root } = await startTestServer();
    const c = await RawClient.ready(port);
    const reply = await c.request({
      cmd: "put",
      path: "p/q/x",
      size: MAX_SIZE,
      parents: true,
      handshake: true,
    });
    expect(reply).toMatchObject({ ok: false, code: "ENOSPC" });
    expect((await stat(path.join(root, "p", "q"))).isDirectory()).toBe(true);
    c.close();
  });
});

describe("resume (§6): a partial is keyed by the normalized path and size, for any connection", () => {
  it("a partial left by /d/./f.bin is offered to a put of d/f.bin on another connection", async () => {
    const { port, root } = await startTestServer();
    await mkdir(path.join(root, "d"));
    const data = randomBytes(1000);
    const a = await RawClient.ready(port);
    const id = a.send({ cmd: "put", path: "/d/./f.bin", size: data.length, md5: md5(data) });
    a.socket.write(encodeFrame({ cmd: "data", id, offset: 0, size: data.length }));
    await new Promise<void>((resolve) => a.socket.write(data.subarray(0, 300), () => resolve()));
    a.close();
    await until(
      async () => ((await stagingFiles(root)).some((n) => n.endsWith(".partial")) ? true : undefined),
      "the partial",
    );
    const b = await RawClient.ready(port);
    const ready = await b.request({
      cmd: "put",
      path: "d/f.bin",
      size: data.length,
      md5: md5(data),
      handshake: true,
    });
    expect(ready).toMatchObject({
      ok: true,
      type: "ready",
      offset: 300,
      prefixMd5: md5(data.subarray(0, 300)),
    });
    b.sendData(ready.id as number, 300, data.subarray(300));
    expect(await b.reply()).toMatchObject({ ok: true, type: "done", md5: md5(data) });
    expect(await readFile(path.join(root, "d", "f.bin"))).toEqual(data);
    b.close();
  });
});

describe("stat and delete answer the errors PROTOCOL.md lists (§4)", () => {
  it("stat: ENOENT, ENOTDIR, EBADPATH", async () => {
    const { port, root } = await startTestServer();
    await writeFile(path.join(root, "f.txt"), "x");
    const c = await RawClient.ready(port);
    expect(await c.request({ cmd: "stat", path: "missing" })).toMatchObject({ code: "ENOENT" });
    expect(await c.request({ cmd: "stat", path: "f.txt/x" })).toMatchObject({ code: "ENOTDIR" });
    expect(await c.request({ cmd: "stat", path: "../x" })).toMatchObject({ code: "EBADPATH" });
    c.close();
  });

  it("delete: EBADPATH, ENOENT, ENOTDIR, ENOTEMPTY, and EACCES first when read-only", async () => {
    const { port, root } = await startTestServer();
    await writeFile(path.join(root, "f.txt"), "x");
    await mkdir(path.join(root, "d"));
    await writeFile(path.join(root, "d", "g.txt"), "x");
    const c = await RawClient.ready(port);
    expect(await c.request({ cmd: "delete", path: "/" })).toMatchObject({ code: "EBADPATH" });
    expect(await c.request({ cmd: "delete", path: "missing" })).toMatchObject({ code: "ENOENT" });
    expect(await c.request({ cmd: "delete", path: "f.txt/x" })).toMatchObject({ code: "ENOTDIR" });
    expect(await c.request({ cmd: "delete", path: "d" })).toMatchObject({ code: "ENOTEMPTY" });
    c.close();
    const ro = await startTestServer({ readOnly: true });
    const r = await RawClient.ready(ro.port);
    expect(await r.request({ cmd: "delete", path: "/" })).toMatchObject({ code: "EACCES" });
    expect(await r.request({ cmd: "delete", path: "../x" })).toMatchObject({ code: "EACCES" });
    r.close();
  });
});

describe("paths (§7)", () => {
  it("`..` is resolved on the names, before any link: l/../f is the root's f even when l links elsewhere", async () => {
    const { port, root } = await startTestServer();
    await mkdir(path.join(root, "a", "deep"), { recursive: true });
    await writeFile(path.join(root, "a", "f"), "in a");
    await writeFile(path.join(root, "f"), "at the root");
    await symlink("a/deep", path.join(root, "l"));
    const c = await RawClient.ready(port);
    expect((await c.get("l/../f")).data.toString()).toBe("at the root");
    c.close();
  });
});

describe("get: the md5 up front or in a trailer (§4)", () => {
  it("up front for a small file and for a known one; in the trailer for a large unknown one", async () => {
    const { port, root } = await startTestServer();
    const small = randomBytes(1000);
    const large = randomBytes(2 * 1024 * 1024);
    await writeFile(path.join(root, "small"), small);
    await writeFile(path.join(root, "large"), large);
    const c = await RawClient.ready(port);
    const s = await c.get("small");
    expect(s.reply).toMatchObject({ ok: true, md5: md5(small) });
    expect(s.end).toBeUndefined();
    const first = await c.get("large");
    expect(first.reply.md5).toBeUndefined();
    expect(first.end).toMatchObject({ cmd: "end", md5: md5(large) });
    // Now the server knows it (the file is unchanged since it hashed it).
    const second = await c.get("large");
    expect(second.reply).toMatchObject({ ok: true, md5: md5(large) });
    expect(second.end).toBeUndefined();
    c.close();
  });
});
