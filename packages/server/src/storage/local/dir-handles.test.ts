import { mkdir, mkdtemp, readdir, realpath, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { FerryError } from "@ferry/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DirHandles } from "./dir-handles.js";
import { Sandbox, STAGING_DIR } from "./sandbox.js";

describe("DirHandles: walking a real tree through handles", () => {
  let base: string;
  let box: Sandbox;
  let dirs: DirHandles;
  beforeEach(async () => {
    base = await realpath(await mkdtemp(path.join(os.tmpdir(), "ferryd-dirs-")));
    const root = path.join(base, "root");
    await mkdir(path.join(root, "inside", "deep"), { recursive: true });
    await mkdir(path.join(root, STAGING_DIR));
    await mkdir(path.join(base, "outside"));
    await writeFile(path.join(base, "outside", "secret"), "s");
    await symlink(path.join(base, "outside"), path.join(root, "out-dir"));
    await symlink(path.join(base, "outside", "secret"), path.join(root, "out-file"));
    await symlink(path.join(base, "outside", "missing"), path.join(root, "out-missing"));
    await symlink("inside", path.join(root, "in-dir"));
    await symlink(path.join(root, "inside", "deep"), path.join(root, "abs-in"));
    await symlink(".", path.join(root, "self"));
    await symlink("loop-b", path.join(root, "loop-a"));
    await symlink("loop-a", path.join(root, "loop-b"));
    await writeFile(path.join(root, "file"), "f");
    box = new Sandbox(root);
    dirs = await DirHandles.open(box);
  });
  afterEach(async () => {
    await dirs.close();
    await rm(base, { recursive: true, force: true });
  });

  const codeOf = (p: Promise<unknown>) =>
    p.then(
      () => "ok",
      (err: unknown) => (err instanceof FerryError ? err.code : `not a FerryError: ${String(err)}`),
    );
  const acquire = async (p: string, create = false) => {
    const ref = await dirs.acquire(box.resolve(p).names, p, create);
    ref.release();
    return ref.names.join("/");
  };

  it("a cached directory removed and made again by another process is walked anew, not reused", async () => {
    const root = box.root;
    await mkdir(path.join(root, "again"));
    expect(await acquire("again")).toBe("again");
    await rm(path.join(root, "again"), { recursive: true });
    await mkdir(path.join(root, "again"));
    const ref = await dirs.acquire(["again"], "again");
    try {
      await writeFile(ref.at("new-file"), "n");
    } finally {
      ref.release();
    }
    expect(await readdir(path.join(root, "again"))).toEqual(["new-file"]);
  });

  it("refuses links out of the root the same way whether or not their target exists", async () => {
    for (const p of ["out-dir", "out-dir/secret", "out-dir/missing", "out-missing", "out-missing/x"]) {
      expect(await codeOf(acquire(p)), p).toBe("EBADPATH");
    }
    for (const p of ["out-file", "out-missing", "out-dir/secret", "out-dir/nothing-here"]) {
      expect(await codeOf(dirs.follow(box.resolve(p))), p).toBe("EBADPATH");
    }
  });

  it("follows links that stay inside, relative and absolute, and reports where they lead", async () => {
    expect(await acquire("in-dir")).toBe("inside");
    expect(await acquire("in-dir/deep")).toBe("inside/deep");
    expect(await acquire("abs-in")).toBe("inside/deep");
    expect(await acquire("self/self/inside")).toBe("inside");
  });

  it("acts on a final symlink itself in parentOf", async () => {
    const found = await dirs.parentOf(box.resolve("out-file"));
    found.dir.release();
    expect(found.names).toEqual(["out-file"]);
  });

  it("does not reach the staging folder, not even through a link to the root", async () => {
    expect(await codeOf(acquire(`self/${STAGING_DIR}`))).toBe("EBADPATH");
    // The sandbox refuses the name itself; DirHandles still refuses it when a link leads there.
    const viaLink = { ...box.resolve("self/x"), names: ["self", STAGING_DIR] };
    expect(await codeOf(dirs.parentOf(viaLink))).toBe("EBADPATH");
  });

  it("answers a loop of links and a file in the middle with their own codes", async () => {
    expect(await codeOf(acquire("loop-a/x"))).toBe("EBADPATH");
    expect(await codeOf(acquire("file/x"))).toBe("ENOTDIR");
    expect(await codeOf(acquire("nothing/x"))).toBe("ENOENT");
  });

  it("creates missing directories inside the root only", async () => {
    expect(await acquire("in-dir/new/er", true)).toBe("inside/new/er");
    expect(await readdir(path.join(base, "root", "inside", "new"))).toEqual(["er"]);
    expect(await codeOf(acquire("out-dir/made", true))).toBe("EBADPATH");
    expect(await codeOf(acquire("out-missing/made", true))).toBe("EBADPATH");
    expect(await readdir(path.join(base, "outside"))).toEqual(["secret"]);
  });
});
