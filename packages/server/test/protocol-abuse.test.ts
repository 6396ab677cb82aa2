import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { encodeFrame } from "@ferry/protocol";
import { describe, expect, it } from "vitest";
import { md5, RawClient } from "./helpers/raw-client.js";
import { stagingFiles, startTestServer } from "./helpers/server.js";
import { assertServes, until } from "./helpers/wait.js";

function lengthPrefix(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

/** A header whose bytes are exactly `json`, whatever they are. */
function rawHeader(json: string | Buffer): Buffer {
  const body = Buffer.isBuffer(json) ? json : Buffer.from(json);
  return Buffer.concat([lengthPrefix(body.length), body]);
}

describe("framing errors: answered with id null, then the connection closes", () => {
  const cases: Array<[string, Buffer, string]> = [
    ["an oversized length prefix", lengthPrefix(0xffffffff), "ETOOBIG"],
    ["a length over --max-header", lengthPrefix(65537), "ETOOBIG"],
    ["a zero length", lengthPrefix(0), "EPROTO"],
    ["non-JSON", rawHeader("this is not json"), "EPROTO"],
    ["a JSON array", rawHeader("[1,2,3]"), "EPROTO"],
    ["invalid UTF-8", rawHeader(Buffer.from([0x7b, 0xff, 0xfe, 0x7d])), "EPROTO"],
    ["a data frame with a negative size", rawHeader('{"cmd":"data","id":1,"offset":0,"size":-5}'), "EPROTO"],
  ];
  it.each(cases)("%s", async (_why, bytes, code) => {
    const { port, root } = await startTestServer();
    const c = await RawClient.ready(port);
    c.sendRaw(bytes);
    expect(await c.reply()).toMatchObject({ ok: false, id: null, code });
    expect(await c.frame()).toBeNull();
    await c.closed;
    await assertServes(port);
    expect(await stagingFiles(root)).toEqual([]);
  });

  it("before hello too", async () => {
    const { port } = await startTestServer();
    const c = await RawClient.connect(port);
    c.sendRaw(lengthPrefix(0xfffffff0));
    expect(await c.reply()).toMatchObject({ ok: false, id: null, code: "ETOOBIG" });
    await c.closed;
    await assertServes(port);
  });
});

describe("a client that vanishes mid-frame costs only its connection", () => {
  it.each([
    ["in the length prefix", Buffer.from([0, 0])],
    ["in the header", Buffer.concat([lengthPrefix(100), Buffer.from('{"cmd":"st')])],
  ])("%s", async (_why, bytes) => {
    const { port, root } = await startTestServer();
    const c = await RawClient.ready(port);
    await new Promise<void>((resolve) => c.socket.end(bytes, () => resolve()));
    expect(await c.frame()).toBeNull();
    await c.closed;
    await assertServes(port);
    expect(await stagingFiles(root)).toEqual([]);
  });
});

describe("malformed requests: an error for that id, and the session goes on", () => {
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ["unknown cmd", { cmd: "format-disk", id: 7 }, "EPROTO"],
    ["path is a number", { cmd: "get", id: 7, path: 42 }, "EPROTO"],
    ["negative size", { cmd: "put", id: 7, path: "a", size: -1 }, "EPROTO"],
    ["fractional size", { cmd: "put", id: 7, path: "a", size: 1.5 }, "EPROTO"],
    ["size past 2^53", { cmd: "put", id: 7, path: "a", size: 2 ** 53 + 2 }, "EPROTO"],
    ["md5 not hex", { cmd: "put", id: 7, path: "a", size: 1, md5: "xyz" }, "EPROTO"],
    ["overwrite a string", { cmd: "put", id: 7, path: "a", size: 1, overwrite: "yes" }, "EPROTO"],
    ["missing path", { cmd: "stat", id: 7 }, "EPROTO"],
    ["hello again", { cmd: "hello", id: 7, version: 1, client: "x" }, "EPROTO"],
  ];
  it.each(cases)("%s", async (_why, header, code) => {
    const { port } = await startTestServer();
    const c = await RawClient.ready(port);
    expect(await c.request(header)).toMatchObject({ ok: false, id: 7, code });
    expect(await c.request({ cmd: "stat", path: "/" })).toMatchObject({ ok: true });
    c.close();
  });

  it("an id that is not a number is answered with id null, and the connection closes", async () => {
    const { port } = await startTestServer();
    const c = await RawClient.ready(port);
    c.sendRaw(rawHeader('{"cmd":"stat","id":"seven","path":"/"}'));
    expect(await c.reply()).toMatchObject({ ok: false, id: null, code: "EPROTO" });
    expect(await c.frame()).toBeNull();
    await c.closed;
    await assertServes(port);
  });

  it("stray data and end frames are discarded silently", async () => {
    const { port } = await startTestServer();
    const c = await RawClient.ready(port);
    c.sendData(99, 0, Buffer.from("stray bytes"));
    c.send({ cmd: "end", id: 99, md5: "0".repeat(32) });
    expect(await c.request({ cmd: "stat", path: "/" })).toMatchObject({ ok: true, type: "entry" });
    c.close();
  });
});

describe("session start", () => {
  it("a request before hello is refused and the connection closes", async () => {
    const { port } = await startTestServer();
    const c = await RawClient.connect(port);
    expect(await c.request({ cmd: "list", path: "/" })).toMatchObject({ ok: false, code: "EPROTO" });
    await c.closed;
  });

  it("an unsupported version gets EVERSION and the connection closes", async () => {
    const { port } = await startTestServer();
    const c = await RawClient.connect(port);
    expect(await c.request({ cmd: "hello", version: 2, client: "future" })).toMatchObject({
      ok: false,
      code: "EVERSION",
    });
    await c.closed;
    await assertServes(port);
  });
});

describe("bad payloads", () => {
  it("a payload shorter than size, then close: only a resumable partial is left", async () => {
    const { port, root } = await startTestServer();
    const c = await RawClient.ready(port);
    const data = randomBytes(1000);
    const id = c.send({ cmd: "put", path: "short.bin", size: 1000, md5: md5(data) });
    c.socket.write(encodeFrame({ cmd: "data", id, offset: 0, size: 1000 }));
    await new Promise<void>((resolve) => c.socket.write(data.subarray(0, 400), () => resolve()));
    c.close();
    const files = await until(async () => {
      const f = await stagingFiles(root);
      return f.some((n) => n.endsWith(".partial")) ? f : undefined;
    }, "the partial");
    expect(files.filter((n) => n.endsWith(".part"))).toEqual([]);
    const d = await RawClient.ready(port);
    const ready = await d.request({
      cmd: "put",
      path: "short.bin",
      size: 1000,
      md5: md5(data),
      handshake: true,
    });
    expect(ready).toMatchObject({
      ok: true,
      type: "ready",
      offset: 400,
      prefixMd5: md5(data.subarray(0, 400)),
    });
    d.sendData(ready.id as number, 400, data.subarray(400));
    expect(await d.reply()).toMatchObject({ ok: true, type: "done", md5: md5(data) });
    expect(await stagingFiles(root)).toEqual([]);
    d.close();
  });

  it("a data frame larger than the put's size is ESIZE; its payload is skipped", async () => {
    const { port, root } = await startTestServer();
    const c = await RawClient.ready(port);
    const id = c.send({ cmd: "put", path: "long.bin", size: 5 });
    c.sendData(id, 0, Buffer.from("0123456789"));
    c.send({ cmd: "end", id, md5: md5(Buffer.from("01234")) });
    expect(await c.reply()).toMatchObject({ ok: false, id, code: "ESIZE" });
    expect(await c.request({ cmd: "stat", path: "long.bin" })).toMatchObject({ code: "ENOENT" });
    expect(await stagingFiles(root)).toEqual([]);
    c.close();
  });

  it("bytes beyond a data frame's size are read as the next frame", async () => {
    const { port } = await startTestServer();
    const c = await RawClient.ready(port);
    const id = c.send({ cmd: "put", path: "x.bin", size: 5, md5: md5(Buffer.from("01234")) });
    c.sendData(id, 0, Buffer.from("01234XXXXX"), 5);
    expect(await c.reply()).toMatchObject({ ok: true, id, type: "done" });
    // "XXXX" as a length prefix is 1.48 GB: a framing error.
    expect(await c.reply()).toMatchObject({ ok: false, id: null, code: "ETOOBIG" });
    await c.closed;
    await assertServes(port);
  });

  it("a wrong md5 is ECHECKSUM, removes the staged bytes and keeps the old file", async () => {
    const { port, root } = await startTestServer();
    const c = await RawClient.ready(port);
    await c.put("f.txt", Buffer.from("original"));
    const id = c.send({
      cmd: "put",
      path: "f.txt",
      size: 7,
      md5: md5(Buffer.from("other!!")),
      overwrite: true,
    });
    c.sendData(id, 0, Buffer.from("changed"));
    const reply = await c.reply();
    expect(reply).toMatchObject({ ok: false, id, code: "ECHECKSUM" });
    expect(await readFile(path.join(root, "f.txt"), "utf8")).toBe("original");
    expect(await stagingFiles(root)).toEqual([]);
    // Same for a wrong trailer.
    const id2 = c.send({ cmd: "put", path: "g.txt", size: 3 });
    c.sendData(id2, 0, Buffer.from("abc"));
    c.send({ cmd: "end", id: id2, md5: md5(Buffer.from("abd")) });
    expect(await c.reply()).toMatchObject({ ok: false, id: id2, code: "ECHECKSUM" });
    expect(await stagingFiles(root)).toEqual([]);
    c.close();
  });

  it("a handshake put answered with a bad offset is ESIZE", async () => {
    const { port, root } = await startTestServer();
    const c = await RawClient.ready(port);
    const ready = await c.request({ cmd: "put", path: "h.bin", size: 10, handshake: true });
    expect(ready).toMatchObject({ ok: true, type: "ready", offset: 0 });
    c.sendData(ready.id as number, 3, Buffer.from("3456789"));
    expect(await c.reply()).toMatchObject({ ok: false, code: "ESIZE" });
    expect(await stagingFiles(root)).toEqual([]);
    expect(await c.request({ cmd: "stat", path: "/" })).toMatchObject({ ok: true });
    c.close();
  });

  it("a request where the handshake put's data should be is EPROTO for the put, then served", async () => {
    const { port, root } = await startTestServer();
    const c = await RawClient.ready(port);
    const ready = await c.request({ cmd: "put", path: "h.bin", size: 10, handshake: true });
    const st = c.send({ cmd: "stat", path: "/" });
    expect(await c.reply()).toMatchObject({ ok: false, id: ready.id, code: "EPROTO" });
    expect(await c.reply()).toMatchObject({ ok: true, id: st });
    expect(await stagingFiles(root)).toEqual([]);
    c.close();
  });
});

describe("timeouts", () => {
  it("a stalled client hits the idle timeout", async () => {
    const { port } = await startTestServer({ idleTimeoutMs: 200 });
    const c = await RawClient.ready(port);
    expect(await c.reply()).toMatchObject({ ok: false, id: null, code: "ETIMEDOUT" });
    await c.closed;
    await assertServes(port);
  });

  it("a client stalled mid-upload hits the idle timeout and leaves a resumable partial", async () => {
    const { port, root } = await startTestServer({ idleTimeoutMs: 200 });
    const c = await RawClient.ready(port);
    const ready = await c.request({ cmd: "put", path: "stall.bin", size: 100, handshake: true });
    c.socket.write(encodeFrame({ cmd: "data", id: ready.id, offset: 0, size: 100 }));
    c.socket.write(Buffer.alloc(30, 1));
    expect(await c.reply()).toMatchObject({ ok: false, code: "ETIMEDOUT" });
    await c.closed;
    const files = await until(async () => {
      const f = await stagingFiles(root);
      return f.some((n) => n.endsWith(".partial")) ? f : undefined;
    }, "the partial");
    expect(files.some((n) => n.endsWith(".part"))).toBe(false);
  });

  it("skipping a refused put's payload is not held to the header deadline", async () => {
    const { port } = await startTestServer({ headerTimeoutMs: 100 });
    const c = await RawClient.ready(port);
    await c.put("exists", Buffer.from("x"));
    const size = 64 * 1024;
    const id = c.send({ cmd: "put", path: "exists", size });
    c.socket.write(encodeFrame({ cmd: "data", id, offset: 0, size }));
    expect(await c.reply()).toMatchObject({ ok: false, id, code: "EEXIST" });
    // The payload trickles in over several header deadlines; it is a payload, not a header.
    for (let sent = 0; sent < size; sent += 8 * 1024) {
      c.socket.write(Buffer.alloc(8 * 1024));
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(await c.request({ cmd: "stat", path: "exists" })).toMatchObject({ ok: true });
    c.close();
  });

  it("a header trickled a byte at a time hits the header deadline", async () => {
    const { port } = await startTestServer({ idleTimeoutMs: 10_000, headerTimeoutMs: 300 });
    const c = await RawClient.ready(port);
    const frame = encodeFrame({ cmd: "stat", id: 5, path: "/".padEnd(200, "a") });
    let i = 0;
    const trickle = setInterval(() => {
      if (i < frame.length && !c.socket.destroyed) c.socket.write(frame.subarray(i, ++i));
    }, 20);
    try {
      expect(await c.reply()).toMatchObject({ ok: false, id: null, code: "ETIMEDOUT" });
      expect(i).toBeLessThan(frame.length);
    } finally {
      clearInterval(trickle);
    }
    await c.closed;
    await assertServes(port);
  });
});
