import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { FerryError } from "@ferry/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Sandbox, STAGING_DIR } from "./sandbox.js";

const ROOT = "/srv/root";
const sandbox = new Sandbox(ROOT);

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof FerryError ? err.code : "not a FerryError";
  }
  return undefined;
}

describe("Sandbox.resolve: hostile paths are EBADPATH before any disk access", () => {
  const hostile: Array<[string, string]> = [
    ["parent of the root", ".."],
    ["leading ..", "../x"],
    ["climbs after descending", "a/../../x"],
    ["dot then ..", "./../x"],
    ["absolute then ..", "/../etc/passwd"],
    ["deep climb", "a/b/c/../../../../x"],
    ["NUL byte", "a\0b"],
    ["backslash", "a\\b"],
    ["windows climb", "..\\..\\x"],
    ["empty", ""],
    ["empty name", "a//b"],
    ["double slash root", "//"],
    ["trailing double slash", "a//"],
    ["name over 255 bytes", "x".repeat(256)],
    ["name over 255 bytes in UTF-8", "é".repeat(128)],
    ["path over 4096 bytes", Array.from({ length: 20 }, () => "y".repeat(250)).join("/")],
    ["lone surrogate (invalid UTF-8)", "bad\ud800name"],
    ["staging folder", STAGING_DIR],
    ["inside staging folder", `/${STAGING_DIR}/x.part`],
    ["staging via dots", `a/../${STAGING_DIR}/x`],
  ];
  it.each(hostile)("%s", (_why, p) => {
    expect(code(() => sandbox.resolve(p))).toBe("EBADPATH");
  });
});

describe("Sandbox.resolve: ordinary paths", () => {
  const fine: Array<[string, string]> = [
    ["/", ""],
    [".", ""],
    ["./", ""],
    ["a/..", ""],
    ["a/b", "a/b"],
    ["/a/b", "a/b"],
    ["a/./b", "a/b"],
    ["a/b/../c", "a/c"],
    ["docs/", "docs"],
    ["x".repeat(255), "x".repeat(255)],
    ["日本語/ファイル.txt", "日本語/ファイル.txt"],
    ["emoji 🚀 name", "emoji 🚀 name"],
    ["e\u0301 combining", "e\u0301 combining"],
    [`a/${STAGING_DIR}`, `a/${STAGING_DIR}`],
    ["...", "..."],
    ["..hidden", "..hidden"],
  ];
  it.each(fine)("%j → %j", (p, rel) => {
    const r = sandbox.resolve(p);
    expect(r.rel).toBe(rel);
    expect(r.abs).toBe(rel ? path.join(ROOT, rel) : ROOT);
    expect(r.isRoot).toBe(rel === "");
  });

  it("keeps names byte for byte (no Unicode normalisation)", () => {
    expect(sandbox.resolve("e\u0301").rel).not.toBe(sandbox.resolve("\u00e9").rel);
  });
});

describe("Sandbox.contains", () => {
  it.each([
    [ROOT, true],
    [`${ROOT}/a`, true],
    [`${ROOT}-evil/a`, false],
    ["/srv", false],
    [`${ROOT}/${STAGING_DIR}`, false],
    [`${ROOT}/${STAGING_DIR}/x`, false],
    [`${ROOT}/a/${STAGING_DIR}`, true],
  ])("%s → %s", (p, inside) => {
    expect(sandbox.contains(p)).toBe(inside);
  });
});

describe("Sandbox symlink checks on a real directory", () => {
  let base: string;
  let box: Sandbox;
  beforeEach(async () => {
    base = await realpath(await mkdtemp(path.join(os.tmpdir(), "ferryd-sandbox-")));
    await mkdir(path.join(base, "root", "inside"), { recursive: true });
    await mkdir(path.join(base, "outside"));
    await writeFile(path.join(base, "outside", "secret"), "s");
    await symlink(path.join(base, "outside"), path.join(base, "root", "out-dir"));
    await symlink(path.join(base, "outside", "secret"), path.join(base, "root", "out-file"));
    await symlink("inside", path.join(base, "root", "in-dir"));
    await symlink(".", path.join(base, "root", "self"));
    box = new Sandbox(path.join(base, "root"));
  });
  afterEach(() => rm(base, { recursive: true, force: true }));

  const codeOf = (p: Promise<unknown>) =>
    p.then(
      () => undefined,
      (err: FerryError) => err.code,
    );

  it("rejects a link out of the root, as a target or as a parent", async () => {
    expect(await codeOf(box.realInside(box.resolve("out-file").abs, "out-file"))).toBe("EBADPATH");
    expect(await codeOf(box.inRealParent(box.resolve("out-dir/secret")))).toBe("EBADPATH");
    expect(await codeOf(box.inRealParent(box.resolve("out-dir/new")))).toBe("EBADPATH");
  });

  it("follows links that stay inside", async () => {
    expect(await box.inRealParent(box.resolve("in-dir/x"))).toBe(path.join(base, "root", "inside", "x"));
  });

  it("acts on a final symlink itself, not on its target", async () => {
    expect(await box.inRealParent(box.resolve("out-file"))).toBe(path.join(base, "root", "out-file"));
  });

  it("does not reach the staging folder through a link to the root", async () => {
    expect(await codeOf(box.inRealParent(box.resolve(`self/${STAGING_DIR}`)))).toBe("EBADPATH");
  });
});
