import { randomBytes } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { encodeFrame } from "@ferry/protocol";
import { describe, expect, it } from "vitest";
import { type Header, md5, RawClient } from "./helpers/raw-client.js";
import { stagingFiles, startTestServer } from "./helpers/server.js";

/** A streamed put as one write: put header, data frame, payload (md5 up front). */
function putBytes(id: number, p: string, data: Buffer, extra: Header = {}): Buffer {
  return Buffer.concat([
    encodeFrame({ cmd: "put", id, path: p, size: data.length, md5: md5(data), ...extra }),
    encodeFrame({ cmd: "data", id, offset: 0, size: data.length }),
    data,
  ]);
}

/** Reads `n` answers (a get's file reply, data and trailer count as one), in arrival order. */
async function answers(c: RawClient, n: number): Promise<Array<Header & { data?: Buffer }>> {
  const out: Array<Header & { data?: Buffer }> = [];
  while (out.length < n) {
    const f = await c.frame();
    if (!f) throw new Error("connection closed");
    if (f.header.type !== "file") {
      out.push(f.header);
      continue;
    }
    const data = await c.frame();
    const chunks: Buffer[] = [];
    for await (const chunk of data?.payload ?? []) chunks.push(Buffer.from(chunk));
    const answer: Header & { data?: Buffer } = { ...f.header, data: Buffer.concat(chunks) };
    if (f.header.md5 === undefined) answer.md5 = (await c.reply()).md5;
    out.push(answer);
  }
  return out;
}

describe.each([
  ["fsync", true],
  ["no fsync", false],
])("pipelined small puts and gets on one connection (%s)", (_, fsync) => {
  it("answers in request order, and each request sees the effects of those before it", async () => {
    const { port, root } = await startTestServer({ fsync });
    const c = await RawClient.ready(port);
    const files = Array.from({ length: 100 }, (_, i) => randomBytes(100 + i * 97));
    const v2 = randomBytes(5000);
    const burst: Buffer[] = [];
    let id = 100;
    const ids: number[] = [];
    const next = () => {
      ids.push(++id);
      return id;
    };
    for (const [i, data] of files.entries()) burst.push(putBytes(next(), `d/f${i}`, data, { parents: true }));
    for (let i = 0; i < files.length; i++)
      burst.push(encodeFrame({ cmd: "get", id: next(), path: `d/f${i}` }));
    // Overwrite then read back, a put without overwrite onto an existing name, a put below a file,
    // a listing: all in the same burst.
    burst.push(putBytes(next(), "d/f0", v2, { overwrite: true }));
    burst.push(encodeFrame({ cmd: "get", id: next(), path: "d/f0" }));
    burst.push(putBytes(next(), "d/f1", v2));
    burst.push(putBytes(next(), "plain", v2));
    burst.push(putBytes(next(), "plain/below", v2, { parents: true }));
    burst.push(encodeFrame({ cmd: "list", id: next(), path: "d" }));
    c.sendRaw(Buffer.concat(burst));

    const got = await answers(c, ids.length);
    expect(got.map((a) => a.id)).toEqual(ids);
    for (const [i, data] of files.entries()) {
      expect(got[i]).toMatchObject({ ok: true, type: "done", md5: md5(data) });
      const g = got[files.length + i];
      expect(g).toMatchObject({ ok: true, type: "file", size: data.length, md5: md5(data) });
      expect(g?.data?.equals(data)).toBe(true);
    }
    const tail = got.slice(2 * files.length);
    expect(tail[0]).toMatchObject({ ok: true, type: "done", md5: md5(v2) });
    expect(tail[1]?.data?.equals(v2)).toBe(true);
    expect(tail[2]).toMatchObject({ ok: false, code: "EEXIST" });
    expect(tail[3]).toMatchObject({ ok: true, type: "done" });
    expect(tail[4]).toMatchObject({ ok: false, code: "ENOTDIR" });
    expect(tail[5]).toMatchObject({ ok: true, type: "entries" });
    expect(tail[5]?.entries).toHaveLength(files.length);

    expect((await readFile(path.join(root, "d/f0"))).equals(v2)).toBe(true);
    expect((await readFile(path.join(root, "d/f1"))).equals(files[1] as Buffer)).toBe(true);
    expect(await stagingFiles(root)).toEqual([]);
    c.close();
  });
});

describe("pipelined small puts", () => {
  it("a failed put in the middle (bad md5, bad path) fails alone; the others commit", async () => {
    const { port, root } = await startTestServer();
    const c = await RawClient.ready(port);
    const good = randomBytes(3000);
    const bad = Buffer.concat([
      encodeFrame({ cmd: "put", id: 2, path: "bad", size: 4, md5: md5(Buffer.from("nope")) }),
      encodeFrame({ cmd: "data", id: 2, offset: 0, size: 4 }),
      Buffer.from("yes!"),
    ]);
    c.sendRaw(
      Buffer.concat([putBytes(1, "a", good), bad, putBytes(3, "../escape", good), putBytes(4, "b", good)]),
    );
    const got = await answers(c, 4);
    expect(got.map((a) => [a.id, a.ok ? a.type : a.code])).toEqual([
      [1, "done"],
      [2, "ECHECKSUM"],
      [3, "EBADPATH"],
      [4, "done"],
    ]);
    expect((await readdir(root)).sort()).toEqual([".ferry-staging", "a", "b"]);
    expect(await stagingFiles(root)).toEqual([]);
    c.close();
  });

  it("a client that half-closes right after a burst still gets every answer, and every file", async () => {
    const { port, root } = await startTestServer();
    const c = await RawClient.ready(port);
    const files = Array.from({ length: 20 }, () => randomBytes(4096));
    c.sendRaw(Buffer.concat(files.map((data, i) => putBytes(i + 1, `f${i}`, data))));
    c.socket.end(); // no more requests; the server must still answer those it has
    const got = await answers(c, files.length);
    expect(got.map((a) => [a.id, a.type])).toEqual(files.map((_, i) => [i + 1, "done"]));
    await c.closed;
    for (const [i, data] of files.entries()) {
      expect((await readFile(path.join(root, `f${i}`))).equals(data)).toBe(true);
    }
    expect(await stagingFiles(root)).toEqual([]);
  });
});
