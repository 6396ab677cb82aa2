import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { encodeFrame } from "@ferry/protocol";
import { describe, expect, it } from "vitest";
import { md5, RawClient } from "./helpers/raw-client.js";
import { stagingFiles, startTestServer } from "./helpers/server.js";

describe("many clients at once", () => {
  it("50 clients put and get different files at once; every file verified", async () => {
    const { port, root } = await startTestServer({ maxPerIp: 64 });
    const files = Array.from({ length: 50 }, (_, i) => ({
      name: `dir${i % 5}/file-${i}.bin`,
      data: randomBytes(64 * 1024 + i * 997),
    }));
    await Promise.all(
      files.map(async ({ name, data }) => {
        const c = await RawClient.ready(port);
        expect(await c.put(name, data, { parents: true })).toMatchObject({ ok: true, md5: md5(data) });
        const got = await c.get(name);
        expect(got.data.equals(data)).toBe(true);
        expect(got.reply.md5 ?? got.end?.md5).toBe(md5(data));
        c.close();
      }),
    );
    for (const { name, data } of files) expect(md5(await readFile(path.join(root, name)))).toBe(md5(data));
    expect(await stagingFiles(root)).toEqual([]);
  });

  it("10 clients put the same name at once: each verified, one whole upload wins, no interleaving", async () => {
    const { port, root } = await startTestServer();
    const uploads = Array.from({ length: 10 }, (_, i) => Buffer.alloc(512 * 1024 + i, i + 1));
    const clients = await Promise.all(uploads.map(() => RawClient.ready(port)));
    // Send every header and half of every payload first, so the uploads really overlap.
    const ids = clients.map((c, i) => {
      const data = uploads[i] as Buffer;
      const id = c.send({ cmd: "put", path: "same.bin", size: data.length, md5: md5(data), overwrite: true });
      c.socket.write(encodeFrame({ cmd: "data", id, offset: 0, size: data.length }));
      c.socket.write(data.subarray(0, data.length >> 1));
      return id;
    });
    for (const [i, c] of clients.entries()) {
      const data = uploads[i] as Buffer;
      c.socket.write(data.subarray(data.length >> 1));
    }
    const replies = await Promise.all(clients.map((c) => c.reply()));
    for (const [i, r] of replies.entries()) {
      expect(r).toMatchObject({ ok: true, id: ids[i], md5: md5(uploads[i] as Buffer) });
    }
    const final = await readFile(path.join(root, "same.bin"));
    expect(uploads.some((u) => u.equals(final))).toBe(true);
    expect(await stagingFiles(root)).toEqual([]);
    for (const c of clients) c.close();
  });

  it("a stalled upload does not delay other clients", async () => {
    const { port } = await startTestServer();
    const slow = await RawClient.ready(port);
    const ready = await slow.request({ cmd: "put", path: "slow.bin", size: 1_000_000, handshake: true });
    slow.socket.write(encodeFrame({ cmd: "data", id: ready.id, offset: 0, size: 1_000_000 }));
    slow.socket.write(Buffer.alloc(1000));
    // The slow client now sends nothing more; others are served meanwhile.
    const data = randomBytes(200_000);
    const others = await Promise.all(
      Array.from({ length: 5 }, async (_, i) => {
        const c = await RawClient.ready(port);
        const r = await c.put(`fast-${i}`, data);
        const got = await c.get(`fast-${i}`);
        c.close();
        return r.ok === true && got.data.equals(data);
      }),
    );
    expect(others).toEqual([true, true, true, true, true]);
    slow.close();
  });
});
