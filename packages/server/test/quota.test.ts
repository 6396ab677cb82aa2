import { randomBytes } from "node:crypto";
import { mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loggedIn, startAccountsServer } from "./helpers/accounts.js";
import { md5, type RawClient } from "./helpers/raw-client.js";
import { stagingFiles } from "./helpers/server.js";

const KiB = 1024;
const MiB = 1024 * KiB;

/** A handshake put: the server's first answer (ready, or the refusal) and, after ready, its final one. */
async function handshakePut(c: RawClient, p: string, data: Buffer, send = true) {
  const id = c.send({ cmd: "put", path: p, size: data.length, md5: md5(data), handshake: true });
  const first = await c.reply();
  if (first.type !== "ready" || !send) return { first };
  c.sendData(id, 0, data);
  return { first, done: await c.reply() };
}

describe("quotas", () => {
  it("bytes: over the quota is EQUOTA before a byte of payload, in human sizes; an overwrite gives back the old file", async () => {
    const t = await startAccountsServer([{ name: "q", password: "q pw", quota: { bytes: 10 * KiB } }]);
    const c = await loggedIn(t.port, "q", "q pw");
    expect(await c.put("six.bin", randomBytes(6 * KiB))).toMatchObject({ ok: true });
    const staged = await stagingFiles(t.roots.q as string);
    // Handshake: refused in place of ready, so the client sends nothing.
    const refused = await handshakePut(c, "more.bin", randomBytes(6 * KiB));
    expect(refused.first).toMatchObject({ ok: false, code: "EQUOTA" });
    expect(refused.first.message).toMatch(/6\.0 KiB of 10\.0 KiB used.*needs 6\.0 KiB/);
    expect(await stagingFiles(t.roots.q as string)).toEqual(staged);
    // Streamed: refused at once, its payload skipped, the stream in step.
    expect(await c.put("more.bin", randomBytes(6 * KiB))).toMatchObject({ code: "EQUOTA" });
    expect(await c.request({ cmd: "stat", path: "six.bin" })).toMatchObject({
      ok: true,
      entry: { size: 6 * KiB },
    });
    // Replacing 6 KiB with 9 KiB needs 3 KiB more: it fits.
    expect(await c.put("six.bin", randomBytes(9 * KiB), { overwrite: true })).toMatchObject({ ok: true });
    expect(await c.put("two.bin", randomBytes(2 * KiB))).toMatchObject({ code: "EQUOTA" });
    // A delete gives the room back.
    expect(await c.request({ cmd: "delete", path: "six.bin" })).toMatchObject({ ok: true });
    expect(await c.put("two.bin", randomBytes(2 * KiB))).toMatchObject({ ok: true });
    expect(await c.put("eight.bin", randomBytes(8 * KiB))).toMatchObject({ ok: true });
    expect(await c.put("one.bin", randomBytes(1))).toMatchObject({ code: "EQUOTA" });
    c.close();
  });

  it("files: a new file past the limit is EQUOTA; overwrites and folders are free; delete -r gives back every file it removed", async () => {
    const t = await startAccountsServer([{ name: "q", password: "q pw", quota: { files: 3 } }]);
    const c = await loggedIn(t.port, "q", "q pw");
    for (const name of ["a", "b", "c"])
      expect(await c.put(name, Buffer.from(name))).toMatchObject({ ok: true });
    expect(await c.put("d", Buffer.from("d"))).toMatchObject({ code: "EQUOTA" });
    expect((await handshakePut(c, "d", Buffer.from("d"))).first).toMatchObject({ code: "EQUOTA" });
    expect(await c.put("a", Buffer.from("a2"), { overwrite: true })).toMatchObject({ ok: true });
    expect(await c.request({ cmd: "mkdir", path: "sub/deeper", parents: true })).toMatchObject({ ok: true });
    expect(await c.request({ cmd: "rename", from: "b", to: "sub/b" })).toMatchObject({ ok: true });
    expect(await c.request({ cmd: "rename", from: "c", to: "sub/deeper/c" })).toMatchObject({ ok: true });
    expect(await c.put("sub/d", Buffer.from("d"))).toMatchObject({ code: "EQUOTA" });
    // A rename over an existing file removes that one.
    expect(await c.request({ cmd: "rename", from: "a", to: "sub/b", overwrite: true })).toMatchObject({
      ok: true,
    });
    expect(await c.put("x", Buffer.from("x"))).toMatchObject({ ok: true });
    expect(await c.put("y", Buffer.from("y"))).toMatchObject({ code: "EQUOTA" });
    expect(await c.request({ cmd: "delete", path: "sub", recursive: true })).toMatchObject({ ok: true });
    expect(await c.put("y", Buffer.from("y"))).toMatchObject({ ok: true });
    expect(await c.put("z", Buffer.from("z"))).toMatchObject({ ok: true });
    expect(await c.put("w", Buffer.from("w"))).toMatchObject({ code: "EQUOTA" });
    c.close();
  });

  it("counts what the root already holds at the first put, and counts again on reload", async () => {
    const t = await startAccountsServer([
      { name: "q", password: "q pw", quota: { bytes: 10 * KiB, files: 100 } },
    ]);
    const root = t.roots.q as string;
    await mkdir(path.join(root, "old", "deep"), { recursive: true });
    await writeFile(path.join(root, "old", "a.bin"), randomBytes(4 * KiB));
    await writeFile(path.join(root, "old", "deep", "b.bin"), randomBytes(4 * KiB));
    const c = await loggedIn(t.port, "q", "q pw");
    expect(await c.put("three.bin", randomBytes(3 * KiB))).toMatchObject({ code: "EQUOTA" });
    // Changed behind ferryd's back: not seen until the usage is counted again.
    await rm(path.join(root, "old"), { recursive: true });
    expect(await c.put("three.bin", randomBytes(3 * KiB))).toMatchObject({ code: "EQUOTA" });
    expect(await t.server.reload()).toMatchObject({ ok: true });
    expect(await c.put("three.bin", randomBytes(3 * KiB))).toMatchObject({ ok: true });
    c.close();
  });

  it("uploads in progress hold their share: a second upload cannot be admitted into the same room", async () => {
    const t = await startAccountsServer([{ name: "q", password: "q pw", quota: { bytes: 10 * MiB } }]);
    const a = await loggedIn(t.port, "q", "q pw");
    const b = await loggedIn(t.port, "q", "q pw");
    const big = randomBytes(9.5 * MiB);
    // `ready` means A's 9.5 MiB are reserved; nothing of them is on disk yet.
    expect((await handshakePut(a, "big.bin", big, false)).first).toMatchObject({ ok: true, type: "ready" });
    const small = randomBytes(800 * KiB);
    const refused = await b.put("small.bin", small);
    expect(refused).toMatchObject({ code: "EQUOTA" });
    expect(refused.message).toMatch(/held by uploads in progress/);
    expect((await handshakePut(b, "small.bin", small)).first).toMatchObject({ code: "EQUOTA" });
    // A is cut off: its reservation ends with it (its bytes are kept only as a partial).
    a.close();
    await a.closed;
    let done = false;
    for (let i = 0; i < 200 && !done; i++) {
      const r = await b.put("small.bin", small);
      done = r.ok === true;
      if (!done) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(done).toBe(true);
    b.close();
  });

  it("concurrent uploads from several connections never get more than the quota admitted", async () => {
    const t = await startAccountsServer([{ name: "q", password: "q pw", quota: { bytes: 10 * MiB } }]);
    const clients = await Promise.all(Array.from({ length: 6 }, () => loggedIn(t.port, "q", "q pw")));
    const data = randomBytes(3 * MiB);
    // All at once: each asks for 3 MiB of the 10.
    const firsts = await Promise.all(clients.map((c, i) => handshakePut(c, `f${i}.bin`, data, false)));
    const ready = firsts.filter((f) => f.first.type === "ready");
    expect(ready).toHaveLength(3);
    expect(firsts.filter((f) => f.first.code === "EQUOTA")).toHaveLength(3);
    // The admitted ones complete; the quota then stands at 9 of 10 MiB.
    await Promise.all(
      clients.map(async (c, i) => {
        if (firsts[i]?.first.type !== "ready") return;
        c.sendData(firsts[i]?.first.id as number, 0, data);
        expect(await c.reply()).toMatchObject({ ok: true, type: "done" });
      }),
    );
    const last = clients[0] as RawClient;
    expect(await last.put("one-more.bin", randomBytes(2 * MiB))).toMatchObject({ code: "EQUOTA" });
    expect(await last.put("fits.bin", randomBytes(MiB))).toMatchObject({ ok: true });
    for (const c of clients) c.close();
  });

  it("users who share a root share its usage", async () => {
    const t = await startAccountsServer([
      { name: "a", password: "a pw", quota: { bytes: 10 * KiB } },
      { name: "b", password: "b pw", root: "roots/a" },
    ]);
    const b = await loggedIn(t.port, "b", "b pw");
    const a = await loggedIn(t.port, "a", "a pw");
    expect(await a.put("a.bin", randomBytes(KiB))).toMatchObject({ ok: true });
    // B has no quota, but what B writes fills A's.
    expect(await b.put("b.bin", randomBytes(8 * KiB))).toMatchObject({ ok: true });
    expect(await a.put("more.bin", randomBytes(2 * KiB))).toMatchObject({ code: "EQUOTA" });
    expect(await b.request({ cmd: "delete", path: "b.bin" })).toMatchObject({ ok: true });
    expect(await a.put("more.bin", randomBytes(2 * KiB))).toMatchObject({ ok: true });
    a.close();
    b.close();
  });
});
