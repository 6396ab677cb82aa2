import { randomBytes } from "node:crypto";
import { readFile, rm } from "node:fs/promises";
import path from "node:path";
import { encodeFrame } from "@ferry/protocol";
import { describe, expect, it } from "vitest";
import { startServer } from "../src/index.js";
import { md5, RawClient } from "./helpers/raw-client.js";
import { stagingFiles, startTestServer } from "./helpers/server.js";
import { until } from "./helpers/wait.js";

/** Starts a handshake put and sends the data header plus the first `sent` bytes; resolves once they left. */
async function startPut(c: RawClient, name: string, data: Buffer, sent: number): Promise<number> {
  const ready = await c.request({
    cmd: "put",
    path: name,
    size: data.length,
    md5: md5(data),
    handshake: true,
  });
  expect(ready).toMatchObject({ ok: true, type: "ready", offset: 0 });
  const id = ready.id as number;
  c.socket.write(encodeFrame({ cmd: "data", id, offset: 0, size: data.length }));
  await new Promise<void>((resolve) => c.socket.write(data.subarray(0, sent), () => resolve()));
  return id;
}

const partials = async (root: string) => (await stagingFiles(root)).filter((n) => n.endsWith(".partial"));

describe("a client killed mid-put", () => {
  it("leaves a partial; the resumed put sends only the missing bytes", async () => {
    const { port, root } = await startTestServer();
    const data = randomBytes(3 * 1024 * 1024 + 5);
    const first = await RawClient.ready(port);
    const sent = 1_234_567;
    await startPut(first, "big.bin", data, sent);
    first.socket.destroy(); // the client dies: no FIN-wait, no goodbye
    await until(async () => ((await partials(root)).length === 1 ? true : undefined), "the partial");
    expect(await stagingFiles(root)).toHaveLength(2); // the partial and its note

    const second = await RawClient.ready(port);
    const ready = await second.request({
      cmd: "put",
      path: "big.bin",
      size: data.length,
      md5: md5(data),
      handshake: true,
    });
    expect(ready).toMatchObject({ ok: true, offset: sent, prefixMd5: md5(data.subarray(0, sent)) });
    const rest = data.subarray(sent);
    second.sendData(ready.id as number, sent, rest);
    expect(rest.length).toBe(data.length - sent);
    expect(await second.reply()).toMatchObject({ ok: true, type: "done", size: data.length, md5: md5(data) });
    expect((await readFile(path.join(root, "big.bin"))).equals(data)).toBe(true);
    expect(await stagingFiles(root)).toEqual([]);
    second.close();
  });

  it("a put that reconnects straight after the cut still finds the partial", async () => {
    const { port, root } = await startTestServer();
    const data = randomBytes(16 * 1024 * 1024);
    // Several rounds: the race (claim before the cut upload has saved) does not show every time.
    for (let round = 0; round < 3; round++) {
      const first = await RawClient.ready(port);
      const second = await RawClient.ready(port); // connected before the cut: nothing to wait for
      const sent = 8 * 1024 * 1024 + round;
      await startPut(first, "now.bin", data, sent);
      first.socket.destroy();
      const ready = await second.request({
        cmd: "put",
        path: "now.bin",
        size: data.length,
        md5: md5(data),
        handshake: true,
      });
      expect(ready).toMatchObject({ ok: true, type: "ready" });
      expect(ready.offset).toBeGreaterThan(0);
      // Every byte handed to the kernel before the cut reached the server ahead of the FIN.
      expect(ready).toMatchObject({ offset: sent, prefixMd5: md5(data.subarray(0, sent)) });
      second.sendData(ready.id as number, sent, data.subarray(sent));
      expect(await second.reply()).toMatchObject({ ok: true, type: "done", md5: md5(data) });
      second.close();
      expect((await readFile(path.join(root, "now.bin"))).equals(data)).toBe(true);
      await second.closed;
      expect(await stagingFiles(root)).toEqual([]);
      // The next round puts the same name again.
      await rm(path.join(root, "now.bin"));
    }
  });

  it("a resumed put whose prefix differs starts over from 0", async () => {
    const { port, root } = await startTestServer();
    const data = randomBytes(100_000);
    const first = await RawClient.ready(port);
    await startPut(first, "f.bin", Buffer.concat([Buffer.alloc(50_000), data.subarray(50_000)]), 50_000);
    first.socket.destroy();
    await until(async () => ((await partials(root)).length === 1 ? true : undefined), "the partial");
    const second = await RawClient.ready(port);
    // No md5 up front this time, so the partial is offered and the client turns it down.
    const ready = await second.request({ cmd: "put", path: "f.bin", size: data.length, handshake: true });
    expect(ready).toMatchObject({ offset: 50_000 });
    expect(ready.prefixMd5).not.toBe(md5(data.subarray(0, 50_000)));
    second.sendData(ready.id as number, 0, data);
    second.send({ cmd: "end", id: ready.id, md5: md5(data) });
    expect(await second.reply()).toMatchObject({ ok: true, md5: md5(data) });
    expect((await readFile(path.join(root, "f.bin"))).equals(data)).toBe(true);
    second.close();
  });
});

describe("graceful shutdown", () => {
  it("lets a running transfer finish, closes idle connections, refuses new ones", async () => {
    const { server, port, root } = await startTestServer({ graceMs: 30_000 });
    const idle = await RawClient.ready(port);
    const busy = await RawClient.ready(port);
    const data = randomBytes(2 * 1024 * 1024);
    await startPut(busy, "g.bin", data, 1024 * 1024);
    const closing = server.close();
    await idle.closed;
    await expect(RawClient.connect(port)).rejects.toThrow();
    busy.socket.write(data.subarray(1024 * 1024));
    expect(await busy.reply()).toMatchObject({ ok: true, type: "done", md5: md5(data) });
    await closing;
    await busy.closed;
    expect((await readFile(path.join(root, "g.bin"))).equals(data)).toBe(true);
  });

  it("cuts a transfer that outlasts the grace period, leaving a resumable partial", async () => {
    const { server, port, root } = await startTestServer({ graceMs: 100 });
    const c = await RawClient.ready(port);
    const data = randomBytes(1024 * 1024);
    await startPut(c, "cut.bin", data, 300_000);
    await server.close();
    await c.closed;
    expect(await partials(root)).toHaveLength(1);
    await expect(readFile(path.join(root, "cut.bin"))).rejects.toThrow();
    // The next server on the same root offers the partial.
    const again = await startServer({ root, port: 0, tls: false });
    try {
      const d = await RawClient.ready(again.port);
      const ready = await d.request({
        cmd: "put",
        path: "cut.bin",
        size: data.length,
        md5: md5(data),
        handshake: true,
      });
      expect(ready).toMatchObject({ ok: true, offset: 300_000 });
      d.sendData(ready.id as number, 300_000, data.subarray(300_000));
      expect(await d.reply()).toMatchObject({ ok: true, md5: md5(data) });
      d.close();
    } finally {
      await again.close();
    }
  });
});
