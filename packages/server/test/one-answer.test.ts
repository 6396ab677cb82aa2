import { randomBytes } from "node:crypto";
import { encodeFrame } from "@ferry/protocol";
import { describe, expect, it } from "vitest";
import { type Header, md5, RawClient } from "./helpers/raw-client.js";
import { stagingFiles, startTestServer } from "./helpers/server.js";

// Every request gets exactly one final answer (PROTOCOL.md §5), also when the data or end frame of
// a put is malformed: the put fails with EPROTO once, and the session goes on.

const MiB = 1024 * 1024;

type Road = "small streamed" | "big streamed" | "handshake";
const ROADS: Array<[Road, number]> = [
  ["small streamed", 1000], // pipeline.ts / put-small.ts
  ["big streamed", 2 * MiB + 17], // put.ts
  ["handshake", 2 * MiB + 17], // put.ts, after `ready`
];

/** Starts a put without an md5 up front, up to where its data frame is due; returns its id. */
async function startPut(c: RawClient, road: Road, name: string, size: number): Promise<number> {
  if (road !== "handshake") return c.send({ cmd: "put", path: name, size });
  const ready = await c.request({ cmd: "put", path: name, size, handshake: true });
  expect(ready).toMatchObject({ ok: true, type: "ready", offset: 0 });
  return ready.id as number;
}

/** Every frame up to the one with id `last` (a bounded number), or up to the server closing. */
async function framesUntil(c: RawClient, last: number): Promise<{ headers: Header[]; closed: boolean }> {
  const headers: Header[] = [];
  for (let i = 0; i < 20; i++) {
    const f = await c.frame();
    if (!f) return { headers, closed: true };
    headers.push(f.header);
    if (f.header.id === last) return { headers, closed: false };
  }
  throw new Error(`no reply to ${last} within 20 frames: ${JSON.stringify(headers)}`);
}

/** One EPROTO for the put, then the stat behind it answered: the connection keeps serving. */
async function expectOneAnswerThenServed(c: RawClient, put: number, root: string): Promise<void> {
  const stat = c.send({ cmd: "stat", path: "/" });
  const { headers, closed } = await framesUntil(c, stat);
  expect(headers.filter((h) => h.id === put)).toEqual([
    expect.objectContaining({ ok: false, id: put, code: "EPROTO" }),
  ]);
  expect(closed).toBe(false);
  expect(headers).toEqual([
    expect.objectContaining({ id: put }),
    expect.objectContaining({ ok: true, id: stat, type: "entry" }),
  ]);
  expect(await c.request({ cmd: "stat", path: "f.bin" })).toMatchObject({ ok: false, code: "ENOENT" });
  expect(await stagingFiles(root)).toEqual([]);
}

const BAD_MD5: Array<[string, unknown]> = [
  ["an empty md5", ""],
  ["an upper-case md5", "9E107D9D372BB6826BD81D3542A419D6"],
  ["an md5 of 31 digits", "9e107d9d372bb6826bd81d3542a419d"],
  ["a null md5", null],
  ["a number for md5", 12345],
];

describe.each(ROADS)("a malformed frame of a %s put is answered once", (road, size) => {
  it.each(BAD_MD5)("an end frame with %s", async (_what, bad) => {
    const { port, root } = await startTestServer();
    const c = await RawClient.ready(port);
    const id = await startPut(c, road, "f.bin", size);
    c.sendData(id, 0, randomBytes(size));
    c.send({ cmd: "end", id, md5: bad });
    await expectOneAnswerThenServed(c, id, root);
    c.close();
  });

  it("a data frame without offset (its payload and the end after it are skipped)", async () => {
    const { port, root } = await startTestServer();
    const c = await RawClient.ready(port);
    const data = randomBytes(size);
    const id = await startPut(c, road, "f.bin", size);
    c.sendRaw(encodeFrame({ cmd: "data", id, size }));
    c.sendRaw(data);
    c.send({ cmd: "end", id, md5: md5(data) });
    await expectOneAnswerThenServed(c, id, root);
    c.close();
  });
});

describe("frames of a put that was already answered", () => {
  it("a refused put's malformed end frame is discarded like any stray frame", async () => {
    const { port, root } = await startTestServer();
    const c = await RawClient.ready(port);
    expect(await c.put("f.bin", Buffer.from("old"))).toMatchObject({ ok: true, type: "done" });
    const id = c.send({ cmd: "put", path: "f.bin", size: 3 });
    c.sendData(id, 0, Buffer.from("new"));
    c.send({ cmd: "end", id, md5: "" });
    c.sendRaw(encodeFrame({ cmd: "data", id, size: 3 }));
    c.sendRaw("new");
    const stat = c.send({ cmd: "stat", path: "/" });
    const { headers, closed } = await framesUntil(c, stat);
    expect(closed).toBe(false);
    expect(headers).toEqual([
      expect.objectContaining({ ok: false, id, code: "EEXIST" }),
      expect.objectContaining({ ok: true, id: stat, type: "entry" }),
    ]);
    expect(await stagingFiles(root)).toEqual([]);
    c.close();
  });
});

describe.each(ROADS)("a data frame whose size is not a size, in a %s put", (road, size) => {
  // The other side of the line drawn above: the payload's length is unknown, so the byte stream
  // cannot be trusted. The put is answered once, then the session's last word (id null) and the
  // connection closes (PROTOCOL.md §5, framing errors).
  it("fails the put once, then the connection closes with the reason", async () => {
    const { port, root } = await startTestServer();
    const c = await RawClient.ready(port);
    const id = await startPut(c, road, "f.bin", size);
    c.sendRaw(encodeFrame({ cmd: "data", id, offset: 0, size: -5 }));
    const { headers, closed } = await framesUntil(c, -1);
    expect(closed).toBe(true);
    expect(headers).toEqual([
      expect.objectContaining({ ok: false, id, code: "EPROTO" }),
      expect.objectContaining({ ok: false, id: null, code: "EPROTO" }),
    ]);
    await c.closed;
    expect(await stagingFiles(root)).toEqual([]);
  });
});
