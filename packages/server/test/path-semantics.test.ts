import { lstat, mkdir, readFile, readlink, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { type Header, RawClient } from "./helpers/raw-client.js";
import { startTestServer } from "./helpers/server.js";

/** A root with a file, an empty and a full directory, and links inside it (PROTOCOL.md §7). */
async function tree() {
  const t = await startTestServer();
  await writeFile(path.join(t.root, "file"), "f\n");
  await writeFile(path.join(t.root, "other"), "o\n");
  await mkdir(path.join(t.root, "empty"));
  await mkdir(path.join(t.root, "full", "sub"), { recursive: true });
  await writeFile(path.join(t.root, "full", "x"), "x\n");
  await symlink("file", path.join(t.root, "link"));
  await symlink("full", path.join(t.root, "dirlink"));
  const c = await RawClient.ready(t.port);
  onTestFinished(() => c.close());
  const code = async (req: Header) => {
    const r = await c.request(req);
    return r.ok === true ? "ok" : String(r.code);
  };
  return { ...t, c, code };
}

describe("a trailing / names a directory", () => {
  it("is ENOTDIR on a file and EISDIR for a put, as POSIX calls on `file/` are", async () => {
    const { c, code } = await tree();
    expect((await c.put("new/", Buffer.from("n"))).code).toBe("EISDIR");
    expect(await code({ cmd: "get", path: "file/" })).toBe("ENOTDIR");
    expect(await code({ cmd: "stat", path: "file/" })).toBe("ENOTDIR");
    expect(await code({ cmd: "list", path: "file/" })).toBe("ENOTDIR");
    expect(await code({ cmd: "delete", path: "file/" })).toBe("ENOTDIR");
    expect(await code({ cmd: "rename", from: "file/", to: "moved" })).toBe("ENOTDIR");
    expect(await code({ cmd: "rename", from: "file", to: "moved/" })).toBe("ENOTDIR");
    expect(await code({ cmd: "stat", path: "file" })).toBe("ok");
  });

  it("works on directories, and through a link to one for stat and list", async () => {
    const { c, code } = await tree();
    expect(await code({ cmd: "stat", path: "full/" })).toBe("ok");
    expect(await code({ cmd: "stat", path: "dirlink/" })).toBe("ok");
    expect(((await c.list("dirlink/")) as Array<{ name: string }>).map((e) => e.name)).toEqual(["sub", "x"]);
    expect(await code({ cmd: "mkdir", path: "made/" })).toBe("ok");
    expect(await code({ cmd: "rename", from: "made/", to: "renamed/" })).toBe("ok");
    expect(await code({ cmd: "delete", path: "renamed/" })).toBe("ok");
  });
});

describe("rename corner cases", () => {
  it("onto itself is a no-op, with or without overwrite", async () => {
    const t = await tree();
    expect(await t.code({ cmd: "rename", from: "file", to: "file" })).toBe("ok");
    expect(await t.code({ cmd: "rename", from: "file", to: "./file", overwrite: true })).toBe("ok");
    expect(await readFile(path.join(t.root, "file"), "utf8")).toBe("f\n");
  });

  it("answers each impossible rename with the code POSIX gives it", async () => {
    const t = await tree();
    expect(await t.code({ cmd: "rename", from: "file", to: "nowhere/file" })).toBe("ENOENT");
    expect(await t.code({ cmd: "rename", from: "missing", to: "x" })).toBe("ENOENT");
    expect(await t.code({ cmd: "rename", from: "file", to: "empty", overwrite: true })).toBe("EISDIR");
    expect(await t.code({ cmd: "rename", from: "file", to: "empty" })).toBe("EEXIST");
    expect(await t.code({ cmd: "rename", from: "empty", to: "full", overwrite: true })).toBe("ENOTEMPTY");
    expect(await t.code({ cmd: "rename", from: "empty", to: "full" })).toBe("EEXIST");
    expect(await t.code({ cmd: "rename", from: "empty", to: "other", overwrite: true })).toBe("ENOTDIR");
    expect(await t.code({ cmd: "rename", from: "empty", to: "other" })).toBe("EEXIST");
    expect(await t.code({ cmd: "rename", from: "full", to: "full/sub/inner", overwrite: true })).toBe(
      "EBADPATH",
    );
    expect(await readFile(path.join(t.root, "other"), "utf8")).toBe("o\n");
    expect(await readFile(path.join(t.root, "full", "x"), "utf8")).toBe("x\n");
  });

  it("moves a symlink as a link, and an empty directory replaces another with overwrite", async () => {
    const t = await tree();
    expect(await t.code({ cmd: "rename", from: "link", to: "full/link2" })).toBe("ok");
    expect(await readlink(path.join(t.root, "full", "link2"))).toBe("file");
    expect(await t.code({ cmd: "mkdir", path: "empty2" })).toBe("ok");
    expect(await t.code({ cmd: "rename", from: "empty2", to: "empty", overwrite: true })).toBe("ok");
    expect((await lstat(path.join(t.root, "empty"))).isDirectory()).toBe(true);
  });
});

describe("final symlinks", () => {
  it("stat and delete act on the link itself; get and list follow it inside the root", async () => {
    const t = await tree();
    expect(((await t.c.request({ cmd: "stat", path: "link" })).entry as Header).type).toBe("symlink");
    expect((await t.c.get("link")).data.toString()).toBe("f\n");
    expect(await t.code({ cmd: "delete", path: "dirlink" })).toBe("ok");
    expect(await readFile(path.join(t.root, "full", "x"), "utf8")).toBe("x\n");
    expect(await t.code({ cmd: "delete", path: "link" })).toBe("ok");
    expect(await readFile(path.join(t.root, "file"), "utf8")).toBe("f\n");
  });
});
