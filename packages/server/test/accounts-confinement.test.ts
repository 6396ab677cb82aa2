import { mkdir, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { STAGING_DIR } from "../src/index.js";
import { loggedIn, startAccountsServer } from "./helpers/accounts.js";
import { HOSTILE, requests } from "./helpers/hostile.js";
import { treeChecksum } from "./helpers/server.js";

const ALICE = { name: "alice", password: "alice's password" };
const BOB = { name: "bob", password: "bob's password" };

/**
 * Alice and Bob with roots side by side, Bob's holding files Alice must never learn of. Bob has
 * logged in once (his root's staging folder exists) before his tree's checksum is taken.
 */
async function twoUsers() {
  const t = await startAccountsServer([ALICE, BOB]);
  const bobRoot = t.roots.bob as string;
  const aliceRoot = t.roots.alice as string;
  await mkdir(path.join(bobRoot, "private"), { recursive: true });
  await writeFile(path.join(bobRoot, "private", "diary.txt"), "bob's diary\n");
  await writeFile(path.join(bobRoot, "top.txt"), "bob's top\n");
  (await loggedIn(t.port, "bob", BOB.password)).close();
  const before = { bob: await treeChecksum(bobRoot), canary: await treeChecksum(t.canary) };
  const unchanged = async () => {
    expect(await treeChecksum(bobRoot)).toBe(before.bob);
    expect(await treeChecksum(t.canary)).toBe(before.canary);
  };
  return { ...t, aliceRoot, bobRoot, unchanged };
}

describe("two users, each confined to their own root", () => {
  it("see only their own files, under the same names", async () => {
    const { port, unchanged } = await twoUsers();
    const alice = await loggedIn(port, "alice", ALICE.password);
    const bob = await loggedIn(port, "bob", BOB.password);
    expect(await alice.put("top.txt", Buffer.from("alice's top"))).toMatchObject({ ok: true });
    expect(await alice.list("/")).toEqual([expect.objectContaining({ name: "top.txt", size: 11 })]);
    expect((await bob.get("top.txt")).data.toString()).toBe("bob's top\n");
    expect((await alice.get("top.txt")).data.toString()).toBe("alice's top");
    for (const p of ["private", "private/diary.txt", "/private/diary.txt"]) {
      expect(await alice.request({ cmd: "stat", path: p }), p).toMatchObject({ ok: false, code: "ENOENT" });
    }
    expect((await alice.get("private/diary.txt")).reply).toMatchObject({ code: "ENOENT" });
    expect(await alice.request({ cmd: "delete", path: "private", recursive: true })).toMatchObject({
      code: "ENOENT",
    });
    expect(await alice.request({ cmd: "rename", from: "private", to: "mine" })).toMatchObject({
      code: "ENOENT",
    });
    alice.close();
    bob.close();
    await unchanged();
  });

  it.each(HOSTILE)(
    "%s is EBADPATH for every command of each user, and nothing outside changes",
    async (_why, p) => {
      const { port, aliceRoot, bobRoot, canary } = await twoUsers();
      const users = [
        ["alice", ALICE.password],
        ["bob", BOB.password],
      ] as const;
      const clients = [];
      for (const [user, password] of users) {
        const c = await loggedIn(port, user, password);
        await c.put("ok.txt", Buffer.from(`${user} fine`));
        clients.push({ user, c });
      }
      const before = [await treeChecksum(aliceRoot), await treeChecksum(bobRoot), await treeChecksum(canary)];
      for (const { user, c } of clients) {
        for (const req of requests(p)) {
          expect(await c.request(req), `${user} ${String(req.cmd)}`).toMatchObject({
            ok: false,
            code: "EBADPATH",
          });
        }
        expect(await c.put(p, Buffer.from("evil"), { overwrite: true, parents: true })).toMatchObject({
          code: "EBADPATH",
        });
        expect((await c.get("ok.txt")).data.toString()).toBe(`${user} fine`);
        c.close();
      }
      expect([
        await treeChecksum(aliceRoot),
        await treeChecksum(bobRoot),
        await treeChecksum(canary),
      ]).toEqual(before);
    },
  );

  it("links planted in one user's root into another's, or out of both, are never followed", async () => {
    const { port, aliceRoot, bobRoot, canary, unchanged } = await twoUsers();
    await symlink(bobRoot, path.join(aliceRoot, "to-bob"));
    await symlink("../bob/private", path.join(aliceRoot, "to-bob-rel"));
    await symlink(path.join(bobRoot, "top.txt"), path.join(aliceRoot, "bob-file"));
    await symlink(canary, path.join(aliceRoot, "to-canary"));
    const alice = await loggedIn(port, "alice", ALICE.password);
    expect((await alice.get("bob-file")).reply).toMatchObject({ code: "EBADPATH" });
    expect(await alice.request({ cmd: "stat", path: "bob-file" })).toMatchObject({
      entry: { type: "symlink" },
    });
    for (const p of ["to-bob/top.txt", "to-bob-rel/diary.txt", "to-canary/secret.txt"]) {
      expect((await alice.get(p)).reply, p).toMatchObject({ code: "EBADPATH" });
      expect(await alice.put(p, Buffer.from("x"), { overwrite: true }), p).toMatchObject({
        code: "EBADPATH",
      });
      expect(await alice.request({ cmd: "delete", path: p }), p).toMatchObject({ code: "EBADPATH" });
      expect(await alice.request({ cmd: "rename", from: p, to: "stolen" }), p).toMatchObject({
        code: "EBADPATH",
      });
    }
    for (const p of ["to-bob", "to-bob-rel", "to-canary"]) {
      expect(await alice.list(p), p).toMatchObject({ code: "EBADPATH" });
      expect(await alice.request({ cmd: "mkdir", path: `${p}/d`, parents: true }), p).toMatchObject({
        code: "EBADPATH",
      });
    }
    // Acting on the links themselves stays in Alice's root.
    expect(await alice.request({ cmd: "delete", path: "to-bob", recursive: true })).toMatchObject({
      ok: true,
    });
    expect(await alice.put("bob-file", Buffer.from("mine now"), { overwrite: true })).toMatchObject({
      ok: true,
    });
    alice.close();
    await unchanged();
  });

  it("a user whose root is below another's sees only that part; the other sees it as a folder", async () => {
    const t = await startAccountsServer([
      { name: "admin", password: "admin pw" },
      { name: "guest", password: "guest pw", root: "roots/admin/guests" },
    ]);
    await writeFile(path.join(t.roots.admin as string, "admin-only.txt"), "admin");
    const guest = await loggedIn(t.port, "guest", "guest pw");
    expect(await guest.put("hello.txt", Buffer.from("hi"))).toMatchObject({ ok: true });
    expect((await guest.get("../admin-only.txt")).reply).toMatchObject({ code: "EBADPATH" });
    expect(await guest.list("/")).toEqual([expect.objectContaining({ name: "hello.txt" })]);
    const admin = await loggedIn(t.port, "admin", "admin pw");
    expect((await admin.get("guests/hello.txt")).data.toString()).toBe("hi");
    // The guest's uploads in progress are the guest's: the admin cannot reach them, not even by a link.
    const staged = path.join(t.roots.guest as string, STAGING_DIR);
    await writeFile(path.join(staged, "partial.part"), "guest's half upload");
    await symlink("guests/.ferry-staging", path.join(t.roots.admin as string, "peek"));
    expect(await admin.list("guests")).toEqual([expect.objectContaining({ name: "hello.txt" })]);
    for (const p of ["guests/.ferry-staging", "guests/.ferry-staging/partial.part", "peek/partial.part"]) {
      expect((await admin.get(p)).reply, p).toMatchObject({ code: "EBADPATH" });
      expect(await admin.request({ cmd: "delete", path: p, recursive: true }), p).toMatchObject({
        code: "EBADPATH",
      });
    }
    expect(await admin.list("peek")).toMatchObject({ code: "EBADPATH" });
    expect(await admin.put("guests/.ferry-staging/x", Buffer.from("x"))).toMatchObject({ code: "EBADPATH" });
    guest.close();
    admin.close();
  });
});
