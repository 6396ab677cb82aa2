import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, open, readdir, readFile, rm, statfs, unlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { encodeFrame } from "@ferry/protocol";
import { describe, expect, it, onTestFinished, type TestContext } from "vitest";
import { type ServerOptions, startServer } from "../src/index.js";
import { type Header, md5, RawClient } from "./helpers/raw-client.js";
import { stagingFiles } from "./helpers/server.js";
import { assertServes } from "./helpers/wait.js";

const run = promisify(execFile);
const MiB = 1024 * 1024;

/**
 * A tmpfs of `size` mounted on a fresh temp dir; unmounted and removed when the test ends, pass or
 * fail. Null (with the reason) where mounting is not allowed, e.g. not root.
 */
async function smallDisk(size: string): Promise<{ dir: string } | { skip: string }> {
  const base = await mkdtemp(path.join(os.tmpdir(), "ferryd-diskfull-"));
  const dir = path.join(base, "mnt");
  await mkdir(dir);
  try {
    await run("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir]);
  } catch (err) {
    await rm(base, { recursive: true, force: true });
    return { skip: `cannot mount a tmpfs (${(err as Error).message.split("\n")[0]})` };
  }
  return { dir };
}

async function unmount(dir: string): Promise<void> {
  await run("umount", [dir]).catch(() => run("umount", ["-l", dir]));
  await rm(path.dirname(dir), { recursive: true, force: true });
}

/**
 * A server over a fresh 8 MiB tmpfs, stopped and unmounted when the test ends; null (the test is
 * skipped) where mounting is not allowed. `transfers` collects the server's transfer log lines.
 */
async function serveSmallDisk(
  ctx: TestContext,
  options: Partial<ServerOptions> = {},
): Promise<{ root: string; port: number; transfers: Header[] } | null> {
  const disk = await smallDisk("8m");
  if ("skip" in disk) {
    console.warn(`skipped: ${disk.skip}`);
    ctx.skip();
    return null;
  }
  const root = disk.dir;
  let server: Awaited<ReturnType<typeof startServer>> | null = null;
  // One hook, in order: the mount must not be busy when it is unmounted.
  onTestFinished(async () => {
    await server?.close();
    await unmount(root);
  });
  const transfers: Header[] = [];
  const logger = {
    log: (_level: string, msg: string, fields?: Header) => {
      if (msg === "transfer" && fields) transfers.push(fields);
    },
  };
  server = await startServer({ root, port: 0, logger, tls: false, ...options });
  return { root, port: server.port, transfers };
}

/** Bytes statfs says are free under `dir`. */
async function freeBytes(dir: string): Promise<number> {
  const fs = await statfs(dir);
  return fs.bavail * fs.bsize;
}

const askPut = (c: RawClient, name: string, data: Buffer) =>
  c.request({ cmd: "put", path: name, size: data.length, md5: md5(data), handshake: true });

describe("disk full", () => {
  it("a disk filled under an admitted 6 MiB put: ENOSPC mid-write, its staging is removed, the server goes on", async (ctx) => {
    const disk = await serveSmallDisk(ctx);
    if (!disk) return;
    const { root, port } = disk;

    const early = randomBytes(100_000);
    const setup = await RawClient.ready(port);
    expect(await setup.put("early.bin", early)).toMatchObject({ ok: true, type: "done" });
    setup.close();

    const b = randomBytes(6 * MiB);
    const cb = await RawClient.ready(port);
    const rb = await askPut(cb, "b.bin", b);
    expect(rb).toMatchObject({ ok: true, type: "ready", offset: 0 });
    // Something outside ferryd takes the space ferryd reserved for b.
    const filler = path.join(root, "filler.bin");
    await writeFile(filler, randomBytes(6 * MiB));
    cb.socket.write(encodeFrame({ cmd: "data", id: rb.id, offset: 0, size: b.length }));
    cb.socket.write(b);
    expect(await cb.reply()).toMatchObject({ ok: false, id: rb.id, code: "ENOSPC" });
    // The same connection goes on once the rest of b's payload has been skipped.
    expect(await cb.request({ cmd: "stat", path: "early.bin" })).toMatchObject({ ok: true, type: "entry" });

    expect(await stagingFiles(root)).toEqual([]);
    expect((await readdir(root)).sort()).toEqual([".ferry-staging", "early.bin", "filler.bin"]);
    expect((await readFile(path.join(root, "early.bin"))).equals(early)).toBe(true);
    cb.close();
    await unlink(filler);

    // Still serving, and the space freed by the failed upload is usable again.
    await assertServes(port);
    const c = await RawClient.ready(port);
    const small = randomBytes(500_000);
    expect(await c.put("after.bin", small)).toMatchObject({ ok: true, md5: md5(small) });
    expect((await c.get("early.bin")).data.equals(early)).toBe(true);

    // Small streamed puts (the pipelined path) until the disk is full: a clear ENOSPC, nothing staged.
    const chunk = randomBytes(900_000);
    let full: Record<string, unknown> | null = null;
    for (let i = 0; i < 20 && !full; i++) {
      const reply = await c.put(`fill${i}.bin`, chunk);
      if (reply.ok !== true) full = reply;
    }
    expect(full).toMatchObject({ ok: false, code: "ENOSPC" });
    expect(await stagingFiles(root)).toEqual([]);
    expect((await c.get("early.bin")).data.equals(early)).toBe(true);

    // The small puts gave their reservations back: once their files are gone, 6 MiB fits again.
    for (const name of await readdir(root)) {
      if (name.startsWith("fill")) await c.request({ cmd: "delete", path: name });
    }
    expect(await askPut(c, "b.bin", b)).toMatchObject({ ok: true, type: "ready" });
    c.close();
  });

  it("4 KiB puts (written inline) on a disk filled under them: ENOSPC, nothing staged, nothing under the names", async (ctx) => {
    const disk = await serveSmallDisk(ctx);
    if (!disk) return;
    const { root, port } = disk;
    const c = await RawClient.ready(port);
    const first = randomBytes(4096);
    // Admission now has a fresh free-space figure, which it trusts for small puts a while (free-space.ts).
    expect(await c.put("first.bin", first)).toMatchObject({ ok: true, type: "done" });
    // Something outside ferryd takes every page left.
    const filler = path.join(root, "filler.bin");
    const fh = await open(filler, "w");
    const block = randomBytes(64 * 1024);
    try {
      for (let i = 0; i < 1024; i++) await fh.write(block);
    } catch (err) {
      expect((err as NodeJS.ErrnoException).code).toBe("ENOSPC");
    } finally {
      await fh.close();
    }
    for (let i = 0; i < 4; i++) {
      expect(await c.put(`small${i}.bin`, randomBytes(4096))).toMatchObject({ ok: false, code: "ENOSPC" });
    }
    expect(await stagingFiles(root)).toEqual([]);
    expect((await readdir(root)).sort()).toEqual([".ferry-staging", "filler.bin", "first.bin"]);
    await unlink(filler);
    const after = randomBytes(4096);
    expect(await c.put("after.bin", after)).toMatchObject({ ok: true, md5: md5(after) });
    expect((await c.get("first.bin")).data.equals(first)).toBe(true);
    c.close();
  });

  it("two concurrent puts of 60 % of the free space: the second is ENOSPC before its payload, the first completes", async (ctx) => {
    const disk = await serveSmallDisk(ctx);
    if (!disk) return;
    const { root, port } = disk;
    const free = await freeBytes(root);
    const a = randomBytes(Math.floor(free * 0.6));
    const b = randomBytes(a.length);
    const ca = await RawClient.ready(port);
    const cb = await RawClient.ready(port);
    const replies = await Promise.all([askPut(ca, "a.bin", a), askPut(cb, "b.bin", b)]);
    // Whichever the server admits first holds its space; the other never gets `ready`.
    const first = replies.findIndex((r) => r.ok === true);
    expect(replies[first]).toMatchObject({ ok: true, type: "ready", offset: 0 });
    expect(replies[1 - first]).toMatchObject({ ok: false, code: "ENOSPC" });
    const [winner, data, name] = first === 0 ? [ca, a, "a.bin"] : [cb, b, "b.bin"];
    winner.sendData(replies[first]?.id as number, 0, data);
    expect(await winner.reply()).toMatchObject({ ok: true, type: "done", md5: md5(data) });
    expect((await readFile(path.join(root, name))).equals(data)).toBe(true);
    // The refused connection goes on.
    expect(await (first === 0 ? cb : ca).request({ cmd: "stat", path: name })).toMatchObject({ ok: true });

    // Committed: the reservation is gone, so the space left is what the disk says, ~40 %.
    const c = await RawClient.ready(port);
    expect(await askPut(c, "big.bin", randomBytes(a.length))).toMatchObject({ ok: false, code: "ENOSPC" });
    const fits = randomBytes(Math.floor(free * 0.3));
    const ready = await askPut(c, "fits.bin", fits);
    expect(ready).toMatchObject({ ok: true, type: "ready" });
    c.sendData(ready.id as number, 0, fits);
    expect(await c.reply()).toMatchObject({ ok: true, type: "done", md5: md5(fits) });
    expect(await stagingFiles(root)).toEqual([]);
    for (const x of [ca, cb, c]) x.close();
  });

  it("an upload cut off releases its reservation; its resume reserves only the bytes still to come", async (ctx) => {
    const disk = await serveSmallDisk(ctx);
    if (!disk) return;
    const { root, port, transfers } = disk;
    const free = await freeBytes(root);
    const data = randomBytes(Math.floor(free * 0.6));
    const sent = Math.floor(free * 0.2);

    // Cut off after 20 %: the client half-closes, so the server gets exactly those bytes, then EOF.
    const cut = await RawClient.ready(port);
    const ready = await askPut(cut, "cut.bin", data);
    expect(ready).toMatchObject({ ok: true, type: "ready", offset: 0 });
    cut.socket.write(encodeFrame({ cmd: "data", id: ready.id, offset: 0, size: data.length }));
    cut.socket.end(data.subarray(0, sent));
    await cut.closed;
    // The transfer is logged once the upload has ended and its partial is kept.
    for (let i = 0; i < 200 && !transfers.some((t) => t.path === "cut.bin"); i++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(transfers.find((t) => t.path === "cut.bin")).toMatchObject({ result: "ECONNLOST", bytes: sent });
    expect(await stagingFiles(root)).not.toEqual([]);

    // 80 % is free: another 60 % fits only if the cut-off upload gave back what it had not written.
    const c = await RawClient.ready(port);
    const other = randomBytes(data.length);
    const r = await askPut(c, "other.bin", other);
    expect(r).toMatchObject({ ok: true, type: "ready", offset: 0 });
    c.sendData(r.id as number, 0, other);
    expect(await c.reply()).toMatchObject({ ok: true, type: "done", md5: md5(other) });
    expect(await c.request({ cmd: "delete", path: "other.bin" })).toMatchObject({ ok: true });

    // Leave between 40 % (what the resume still needs) and 60 % (the whole file) free.
    const filler = randomBytes(Math.floor(free * 0.3));
    expect(await c.put("filler.bin", filler)).toMatchObject({ ok: true, type: "done" });
    expect(await askPut(c, "fresh.bin", randomBytes(data.length))).toMatchObject({
      ok: false,
      code: "ENOSPC",
    });
    const resumed = await askPut(c, "cut.bin", data);
    expect(resumed).toMatchObject({
      ok: true,
      type: "ready",
      offset: sent,
      prefixMd5: md5(data.subarray(0, sent)),
    });
    c.sendData(resumed.id as number, sent, data.subarray(sent));
    expect(await c.reply()).toMatchObject({ ok: true, type: "done", md5: md5(data) });
    expect((await readFile(path.join(root, "cut.bin"))).equals(data)).toBe(true);
    expect(await stagingFiles(root)).toEqual([]);
    c.close();
  });
});
