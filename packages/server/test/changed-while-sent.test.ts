import { createHash, randomBytes } from "node:crypto";
import { appendFile, open, readFile, stat, utimes, writeFile } from "node:fs/promises";
import path from "node:path";
import { encodeFrame } from "@ferry/protocol";
import { describe, expect, it } from "vitest";
import { type Header, md5, RawClient } from "./helpers/raw-client.js";
import { startTestServer } from "./helpers/server.js";
import { until } from "./helpers/wait.js";

// A file another program writes to while ferryd sends it must not be vouched for with the md5 of the
// mixed bytes: the get ends with ECHANGED instead (PROTOCOL.md §4 get).
//
// No sleeps race the transfer. The client reads the first MiB and then stops reading, so the server
// is held mid-send by backpressure (about 5 MiB fit in the socket buffers, 3 MiB in its read-ahead:
// far from the 32 MiB file's middle); the file is changed; then the client reads on. The file's
// times are set in the past first, so the change moves mtime whatever the clock's granularity.

const MiB = 1024 * 1024;
const BIG = 32 * MiB;
const PAST = new Date("2001-01-01T00:00:00Z");

/** A file in the root written by "another program", never cached by ferryd, dated in the past. */
async function planted(root: string, name: string, size: number): Promise<{ file: string; bytes: Buffer }> {
  const file = path.join(root, name);
  const bytes = randomBytes(size);
  await writeFile(file, bytes);
  await utimes(file, PAST, PAST);
  return { file, bytes };
}

async function overwriteAt(file: string, at: number, bytes: Buffer): Promise<void> {
  const fh = await open(file, "r+");
  try {
    await fh.write(bytes, 0, bytes.length, at);
  } finally {
    await fh.close();
  }
}

/** A get whose payload the test reads at its own pace. */
async function startGet(c: RawClient, p: string, id?: number) {
  const reply = id === undefined ? await c.request({ cmd: "get", path: p }) : await c.reply();
  expect(reply).toMatchObject({ ok: true, type: "file", size: BIG });
  expect(reply.md5).toBeUndefined(); // never hashed before: the trailer form
  const data = await c.frame();
  expect(data?.header).toMatchObject({ cmd: "data", id: reply.id, offset: 0, size: BIG });
  const payload = (data as NonNullable<typeof data>).payload[Symbol.asyncIterator]();
  const hash = createHash("md5");
  let got = 0;
  const readUpTo = async (n: number) => {
    while (got < n) {
      const r = await payload.next();
      if (r.done) break;
      hash.update(r.value);
      got += r.value.length;
    }
    return got;
  };
  return { reply, readUpTo, md5: () => hash.digest("hex") };
}

describe("a file changed in place while it is sent (no cached md5: the trailer form)", () => {
  it("bytes written in the middle (and in the part already sent): ECHANGED, no end", async () => {
    const { port, root } = await startTestServer({}, true);
    const { file, bytes } = await planted(root, "big.bin", BIG);
    const c = await RawClient.ready(port);
    const get = await startGet(c, "big.bin");
    await get.readUpTo(MiB);
    // The server is now held mid-send: change bytes it has sent and bytes it has not read yet.
    await overwriteAt(file, 0, randomBytes(64 * 1024));
    await overwriteAt(file, BIG / 2, randomBytes(64 * 1024));
    expect(await get.readUpTo(BIG)).toBe(BIG);
    // What arrived is a file that never existed: neither the old bytes nor the new ones.
    const received = get.md5();
    expect(received).not.toBe(md5(bytes));
    expect(received).not.toBe(md5(await readFile(file)));
    expect(await c.reply()).toMatchObject({ ok: false, id: get.reply.id, code: "ECHANGED" });
    // The get ended alone: the session goes on, and the file as it is now is sent whole and vouched for.
    const st = c.send({ cmd: "stat", path: "big.bin" });
    expect(await c.reply()).toMatchObject({ ok: true, id: st, type: "entry" });
    const again = await c.get("big.bin");
    expect(again.end).toMatchObject({ cmd: "end", md5: md5(await readFile(file)) });
    expect(md5(again.data)).toBe(md5(await readFile(file)));
    c.close();
  });

  it("bytes appended: ECHANGED, no end", async () => {
    const { port, root } = await startTestServer({}, true);
    const { file, bytes } = await planted(root, "big.bin", BIG);
    const c = await RawClient.ready(port);
    const get = await startGet(c, "big.bin");
    await get.readUpTo(MiB);
    await appendFile(file, randomBytes(MiB));
    expect(await get.readUpTo(BIG)).toBe(BIG);
    expect(get.md5()).toBe(md5(bytes)); // the size at open was sent; only the check sees the append
    expect(await c.reply()).toMatchObject({ ok: false, id: get.reply.id, code: "ECHANGED" });
    expect(await c.request({ cmd: "stat", path: "big.bin" })).toMatchObject({
      ok: true,
      entry: { size: BIG + MiB },
    });
    c.close();
  });
});

describe("a small file changed after the server read it, before its reply", () => {
  // A small file is read whole while earlier gets of the same connection are still being sent
  // (pipeline.ts), and answered in its turn. Here the earlier get is held by backpressure; the
  // server's read of the small file is seen by its access time moving (its times are in the past,
  // so relatime updates it too); then the file changes, then the client reads on.
  it("gets ECHANGED in place of the file reply", async (ctx) => {
    const { port, root } = await startTestServer({}, true);
    const probe = await planted(root, "probe.bin", 10);
    await readFile(probe.file);
    if ((await stat(probe.file)).atimeMs === PAST.getTime()) {
      ctx.skip(); // a noatime mount: the server's read cannot be observed
    }
    const big = await planted(root, "big.bin", BIG);
    const small = await planted(root, "small.bin", 100 * 1024);
    const c = await RawClient.ready(port);
    const bigId = c.id();
    const smallId = c.id();
    c.sendRaw(
      Buffer.concat([
        encodeFrame({ cmd: "get", id: bigId, path: "big.bin" }),
        encodeFrame({ cmd: "get", id: smallId, path: "small.bin" }),
      ]),
    );
    const get = await startGet(c, "big.bin", bigId);
    await get.readUpTo(MiB);
    await until(
      async () => ((await stat(small.file)).atimeMs !== PAST.getTime() ? true : undefined),
      "the server to read small.bin",
    );
    await overwriteAt(small.file, 1000, randomBytes(100));
    expect(await get.readUpTo(BIG)).toBe(BIG);
    // The big file did not change: it is vouched for as usual.
    expect(await c.reply()).toMatchObject({ cmd: "end", id: bigId, md5: md5(big.bytes) });
    const answer: Header = await c.reply();
    expect(answer).toMatchObject({ ok: false, id: smallId, code: "ECHANGED" });
    // No data frame follows: the next frame answers the next request.
    const st = c.send({ cmd: "stat", path: "small.bin" });
    expect(await c.reply()).toMatchObject({ ok: true, id: st, type: "entry" });
    c.close();
  });
});
