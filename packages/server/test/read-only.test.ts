import { mkdir, readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { VERBS } from "../src/commands/index.js";
import { loggedIn, startAccountsServer } from "./helpers/accounts.js";
import { type Header, md5, RawClient } from "./helpers/raw-client.js";
import { startTestServer, treeChecksum } from "./helpers/server.js";

/** One request per writing verb, each of which would succeed for a read-write user. */
const WRITES: Header[] = [
  { cmd: "put", path: "new.txt", size: 3, md5: md5(Buffer.from("new")) },
  { cmd: "put", path: "big.bin", size: 3, handshake: true },
  { cmd: "put", path: "seen.txt", size: 3, md5: md5(Buffer.from("new")), overwrite: true },
  { cmd: "mkdir", path: "dir" },
  { cmd: "mkdir", path: "a/b", parents: true },
  { cmd: "delete", path: "seen.txt" },
  { cmd: "delete", path: "folder", recursive: true },
  { cmd: "rename", from: "seen.txt", to: "moved.txt" },
];

/** Sends every write, the streamed puts with their payload; each gets EACCES and the stream stays in step. */
async function expectEveryWriteRefused(c: RawClient, root: string): Promise<void> {
  const before = await treeChecksum(root);
  for (const req of WRITES) {
    const id = c.send(req);
    if (req.cmd === "put" && req.handshake !== true) c.sendData(id, 0, Buffer.from("new"));
    const reply = await c.reply();
    expect(reply, JSON.stringify(req)).toMatchObject({ ok: false, id, code: "EACCES" });
  }
  // Still in step, and reading works.
  expect((await c.get("seen.txt")).data.toString()).toBe("old");
  expect(await c.list("/")).toEqual(expect.arrayContaining([expect.objectContaining({ name: "seen.txt" })]));
  expect(await c.request({ cmd: "stat", path: "folder" })).toMatchObject({
    ok: true,
    entry: { type: "dir" },
  });
  expect(await treeChecksum(root)).toBe(before);
}

describe("read-only", () => {
  it("the tests cover every verb the dispatch table marks as writing", () => {
    const writing = Object.entries(VERBS)
      .filter(([, v]) => v.writes)
      .map(([cmd]) => cmd);
    expect(new Set(WRITES.map((r) => r.cmd))).toEqual(new Set(writing));
    expect(writing.sort()).toEqual(["delete", "mkdir", "put", "rename"]);
  });

  it("a read-only user gets EACCES for every write, before a byte of payload, and reads as usual", async () => {
    const t = await startAccountsServer([
      { name: "reader", password: "reader pw", readOnly: true },
      { name: "writer", password: "writer pw", root: "roots/reader" },
    ]);
    const root = t.roots.reader as string;
    await writeFile(path.join(root, "seen.txt"), "old");
    const writer = await loggedIn(t.port, "writer", "writer pw");
    expect(await writer.request({ cmd: "mkdir", path: "folder" })).toMatchObject({ ok: true });
    const reader = await loggedIn(t.port, "reader", "reader pw");
    await expectEveryWriteRefused(reader, root);
    // The same root, read-write for another user.
    expect(await writer.put("new.txt", Buffer.from("new"))).toMatchObject({ ok: true });
    reader.close();
    writer.close();
  });

  it("a server-wide read-only holds for every user, whatever the users file says", async () => {
    const t = await startAccountsServer([{ name: "writer", password: "writer pw" }], { readOnly: true });
    const root = t.roots.writer as string;
    await writeFile(path.join(root, "seen.txt"), "old");
    await mkdir(path.join(root, "folder"));
    const c = await loggedIn(t.port, "writer", "writer pw");
    await expectEveryWriteRefused(c, root);
    // Nothing was prepared for writing in a read-only root.
    expect(await readdir(root)).not.toContain(".ferry-staging");
    c.close();
  });

  it("a read-only server without accounts refuses every write the same way", async () => {
    const t = await startTestServer();
    await writeFile(path.join(t.root, "seen.txt"), "old");
    await mkdir(path.join(t.root, "folder"));
    await t.server.close();
    const ro = await startTestServer({ root: t.root, readOnly: true });
    const c = await RawClient.ready(ro.port);
    await expectEveryWriteRefused(c, t.root);
    c.close();
  });
});
