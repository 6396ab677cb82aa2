import { randomBytes } from "node:crypto";
import { type Entry, encodeFrame } from "@ferry/protocol";
import { describe, expect, it } from "vitest";
import { BACKENDS, startOn } from "./backends.js";
import { HOSTILE, requests } from "./helpers/hostile.js";
import { type Header, md5, RawClient } from "./helpers/raw-client.js";

/**
 * What every storage backend must do, seen only through the wire (so the same test runs against any
 * backend in BACKENDS): the verbs, resume, hostile paths, pipelining, racing puts of one name, and a
 * wrong md5 leaving nothing behind.
 */

function names(listing: Entry[] | Header): string[] {
  if (!Array.isArray(listing)) throw new Error(`list failed: ${JSON.stringify(listing)}`);
  return listing.map((e) => e.name);
}

async function content(c: RawClient, p: string): Promise<Buffer> {
  const got = await c.get(p);
  if (got.reply.ok !== true) throw new Error(`get ${p} failed: ${JSON.stringify(got.reply)}`);
  expect(got.reply.md5 ?? got.end?.md5, p).toBe(md5(got.data));
  return got.data;
}

/** A streamed put as one buffer: put header, data frame, payload (md5 up front unless `md5` says). */
function putFrames(id: number, p: string, data: Buffer, extra: Header = {}): Buffer {
  return Buffer.concat([
    encodeFrame({ cmd: "put", id, path: p, size: data.length, md5: md5(data), ...extra }),
    encodeFrame({ cmd: "data", id, offset: 0, size: data.length }),
    data,
  ]);
}

describe.each(BACKENDS)("the storage contract on $name", (backend) => {
  it("put, get, stat and list: a small pipelined put, a streamed one and a handshake one", async () => {
    const { port } = await startOn(backend);
    const c = await RawClient.ready(port);
    const small = randomBytes(4096);
    const big = randomBytes(3 * 1024 * 1024 + 7);
    const hs = randomBytes(2 * 1024 * 1024 + 1);
    expect(await c.put("small.bin", small)).toMatchObject({ ok: true, type: "done", md5: md5(small) });
    expect(await c.put("d/big.bin", big, { parents: true })).toMatchObject({ ok: true, md5: md5(big) });
    const mtime = 1_600_000_000_123;
    const ready = await c.request({
      cmd: "put",
      path: "d/hs.bin",
      size: hs.length,
      md5: md5(hs),
      mtime,
      handshake: true,
    });
    expect(ready).toMatchObject({ ok: true, type: "ready", offset: 0 });
    c.sendData(ready.id as number, 0, hs);
    expect(await c.reply()).toMatchObject({ ok: true, type: "done", md5: md5(hs) });

    expect((await content(c, "small.bin")).equals(small)).toBe(true);
    expect((await content(c, "d/big.bin")).equals(big)).toBe(true);
    expect((await content(c, "d/hs.bin")).equals(hs)).toBe(true);
    expect(await c.request({ cmd: "stat", path: "d/hs.bin" })).toMatchObject({
      ok: true,
      entry: { name: "hs.bin", type: "file", size: hs.length, mtime },
    });
    expect(await c.request({ cmd: "stat", path: "d" })).toMatchObject({ entry: { name: "d", type: "dir" } });
    expect(names(await c.list("/"))).toEqual(["d", "small.bin"]);
    expect(names(await c.list("d/"))).toEqual(["big.bin", "hs.bin"]);
    expect(await c.list("d/big.bin")).toMatchObject([{ name: "big.bin", type: "file", size: big.length }]);
    expect((await c.get("nope")).reply).toMatchObject({ ok: false, code: "ENOENT" });
    expect(await c.list("small.bin/")).toMatchObject({ ok: false, code: "ENOTDIR" });
    expect(await c.put("small.bin", Buffer.from("x"))).toMatchObject({ ok: false, code: "EEXIST" });
    expect(await c.put("d", Buffer.from("x"), { overwrite: true })).toMatchObject({ code: "EISDIR" });
    c.close();
  });

  it("mkdir with parents, rename of a file and of a directory, delete with and without -r", async () => {
    const { port } = await startOn(backend);
    const c = await RawClient.ready(port);
    expect(await c.request({ cmd: "mkdir", path: "a/b/c", parents: true })).toMatchObject({ ok: true });
    expect(await c.request({ cmd: "mkdir", path: "a" })).toMatchObject({ ok: false, code: "EEXIST" });
    expect(await c.request({ cmd: "mkdir", path: "x/y" })).toMatchObject({ ok: false, code: "ENOENT" });
    expect(await c.put("a/b/c/f.txt", Buffer.from("inner"))).toMatchObject({ ok: true });
    expect(await c.request({ cmd: "rename", from: "a/b", to: "a/moved" })).toMatchObject({ ok: true });
    expect(await c.request({ cmd: "stat", path: "a/b" })).toMatchObject({ ok: false, code: "ENOENT" });
    expect((await content(c, "a/moved/c/f.txt")).toString()).toBe("inner");

    expect(await c.put("g.txt", Buffer.from("outer"))).toMatchObject({ ok: true });
    expect(await c.request({ cmd: "rename", from: "g.txt", to: "a/moved/c/f.txt" })).toMatchObject({
      ok: false,
      code: "EEXIST",
    });
    const over = { cmd: "rename", from: "g.txt", to: "a/moved/c/f.txt", overwrite: true };
    expect(await c.request(over)).toMatchObject({ ok: true });
    expect((await content(c, "a/moved/c/f.txt")).toString()).toBe("outer");
    expect(names(await c.list("/"))).toEqual(["a"]);

    expect(await c.request({ cmd: "delete", path: "a" })).toMatchObject({ ok: false, code: "ENOTEMPTY" });
    expect(await c.request({ cmd: "delete", path: "a", recursive: true })).toMatchObject({ ok: true });
    expect(await c.request({ cmd: "stat", path: "a" })).toMatchObject({ ok: false, code: "ENOENT" });
    expect(names(await c.list("/"))).toEqual([]);
    c.close();
  });

  it("a handshake put cut mid-payload resumes where the server stopped, and verifies", async () => {
    const { port } = await startOn(backend);
    // Big enough that a backend keeping whole parts (S3: 5 MiB at least) has some to offer.
    const data = randomBytes(12 * 1024 * 1024 + 5);
    const put = { cmd: "put", path: "big.bin", size: data.length, md5: md5(data), handshake: true };
    const first = await RawClient.ready(port);
    const ready = await first.request(put);
    expect(ready).toMatchObject({ ok: true, offset: 0 });
    first.socket.write(encodeFrame({ cmd: "data", id: ready.id as number, offset: 0, size: data.length }));
    const sent = 7 * 1024 * 1024 + 3;
    await new Promise<void>((resolve) => first.socket.write(data.subarray(0, sent), () => resolve()));
    first.socket.destroy(); // the client dies mid-payload

    // The server may still be saving the partial: a put that finds none yet is given up and tried again.
    let second: RawClient | null = null;
    let offer: Header = {};
    for (let attempt = 0; attempt < 50; attempt++) {
      second = await RawClient.ready(port);
      offer = await second.request(put);
      expect(offer).toMatchObject({ ok: true, type: "ready" });
      if ((offer.offset as number) > 0) break;
      second.close();
      second = null;
      await new Promise((r) => setTimeout(r, 100));
    }
    if (!second) throw new Error("no resume point was ever offered");
    const offset = offer.offset as number;
    expect(offset).toBeLessThanOrEqual(sent);
    expect(offer.prefixMd5).toBe(md5(data.subarray(0, offset)));
    second.sendData(offer.id as number, offset, data.subarray(offset));
    expect(await second.reply()).toMatchObject({ ok: true, type: "done", md5: md5(data) });
    expect((await content(second, "big.bin")).equals(data)).toBe(true);
    second.close();
  });

  it("hostile paths are EBADPATH for every verb, and create nothing", async () => {
    const { port } = await startOn(backend);
    const c = await RawClient.ready(port);
    expect(await c.put("ok.txt", Buffer.from("fine"))).toMatchObject({ ok: true });
    for (const [why, p] of HOSTILE) {
      for (const req of requests(p)) {
        const reply = await c.request(req);
        expect(reply, `${why}: ${String(req.cmd)}`).toMatchObject({ ok: false, code: "EBADPATH" });
      }
      // A streamed put with its payload: refused, payload skipped, the stream still in step.
      const evil = await c.put(p, Buffer.from("evil"), { overwrite: true, parents: true });
      expect(evil, why).toMatchObject({ code: "EBADPATH" });
    }
    expect(names(await c.list("/"))).toEqual(["ok.txt"]);
    expect((await content(c, "ok.txt")).toString()).toBe("fine");
    c.close();
  });

  it("pipelined puts and gets are answered in request order, each seeing the ones before", async () => {
    const { port } = await startOn(backend);
    const c = await RawClient.ready(port);
    const files = Array.from({ length: 40 }, (_, i) => randomBytes(50 + i * 131));
    const v2 = randomBytes(3000);
    const burst: Buffer[] = [];
    const expected: Array<{ id: number; type: string; data?: Buffer }> = [];
    let id = 1000;
    files.forEach((data, i) => {
      burst.push(putFrames(++id, `p/f${i}.bin`, data, { parents: true }));
      expected.push({ id, type: "done" });
    });
    // An overwrite in the middle of the burst, then gets that must see every put before them.
    burst.push(putFrames(++id, "p/f3.bin", v2, { overwrite: true }));
    expected.push({ id, type: "done" });
    files.forEach((data, i) => {
      burst.push(encodeFrame({ cmd: "get", id: ++id, path: `p/f${i}.bin` }));
      expected.push({ id, type: "file", data: i === 3 ? v2 : data });
    });
    c.socket.write(Buffer.concat(burst));

    for (const want of expected) {
      const reply = await c.reply();
      expect(reply, `answer to ${want.id}`).toMatchObject({ ok: true, id: want.id, type: want.type });
      if (want.type !== "file") continue;
      const frame = await c.frame();
      const chunks: Buffer[] = [];
      for await (const chunk of frame?.payload ?? []) chunks.push(Buffer.from(chunk));
      const md5Sent = reply.md5 ?? (await c.reply()).md5;
      expect(md5Sent).toBe(md5(want.data as Buffer));
      expect(Buffer.concat(chunks).equals(want.data as Buffer), `get ${want.id}`).toBe(true);
    }
    c.close();
  });

  it("concurrent puts of one name: the name ends up holding one whole upload, never a mix", async () => {
    const { port } = await startOn(backend);
    const versions = Array.from({ length: 6 }, () => randomBytes(2 * 1024 * 1024 + 17));
    const clients = await Promise.all(versions.map(() => RawClient.ready(port)));
    const replies = await Promise.all(
      clients.map((c, i) => c.put("same.bin", versions[i] as Buffer, { overwrite: true })),
    );
    for (const reply of replies) expect(reply).toMatchObject({ ok: true, type: "done" });
    const c = clients[0] as RawClient;
    const got = await content(c, "same.bin");
    expect(versions.some((v) => v.equals(got))).toBe(true);
    expect(names(await c.list("/"))).toEqual(["same.bin"]);

    // Without overwrite exactly one wins; the others are EEXIST (at admission or at the commit).
    const fresh = await Promise.all(clients.map((cl, i) => cl.put("once.bin", versions[i] as Buffer)));
    const won = fresh.filter((r) => r.ok === true);
    expect(won).toHaveLength(1);
    for (const r of fresh.filter((r) => r.ok !== true)) expect(r).toMatchObject({ code: "EEXIST" });
    const winner = versions[fresh.indexOf(won[0] as Header)] as Buffer;
    expect((await content(c, "once.bin")).equals(winner)).toBe(true);
    for (const cl of clients) cl.close();
  });

  it("a wrong md5 is ECHECKSUM, and nothing appears under the name, small or streamed", async () => {
    const { port } = await startOn(backend);
    const c = await RawClient.ready(port);
    for (const [p, size] of [
      ["small.bin", 4096],
      ["streamed.bin", 3 * 1024 * 1024],
    ] as const) {
      const data = randomBytes(size);
      const flipped = Buffer.from(data);
      flipped[size >> 1] = (flipped[size >> 1] as number) ^ 0x40; // one bit flipped on the way
      const id = c.send({ cmd: "put", path: p, size, md5: md5(data) });
      c.sendData(id, 0, flipped);
      expect(await c.reply(), p).toMatchObject({ ok: false, id, code: "ECHECKSUM" });
      expect(await c.request({ cmd: "stat", path: p }), p).toMatchObject({ ok: false, code: "ENOENT" });
      // Nothing left in the way: the same put with the right bytes goes through.
      expect(await c.put(p, data), p).toMatchObject({ ok: true, md5: md5(data) });
    }
    // A handshake put whose trailer md5 disagrees: the same.
    const data = randomBytes(100_000);
    const ready = await c.request({ cmd: "put", path: "trailer.bin", size: data.length, handshake: true });
    c.sendData(ready.id as number, 0, data);
    c.send({ cmd: "end", id: ready.id, md5: md5(Buffer.from("something else")) });
    expect(await c.reply()).toMatchObject({ ok: false, code: "ECHECKSUM" });
    expect(names(await c.list("/"))).toEqual(["small.bin", "streamed.bin"]);
    c.close();
  });
});
