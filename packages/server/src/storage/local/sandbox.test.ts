import { FerryError } from "@ferry/protocol";
import { describe, expect, it } from "vitest";
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
    // A user's root may be a folder of another user's: its staging is reserved at any depth.
    ["a nested staging folder", `a/${STAGING_DIR}`],
    ["inside a nested staging folder", `a/b/${STAGING_DIR}/x.part`],
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
    ["...", "..."],
    ["..hidden", "..hidden"],
  ];
  it.each(fine)("%j → %j", (p, rel) => {
    const r = sandbox.resolve(p);
    expect(r.rel).toBe(rel);
    expect(r.isRoot).toBe(rel === "");
  });

  it("keeps names byte for byte (no Unicode normalisation)", () => {
    expect(sandbox.resolve("e\u0301").rel).not.toBe(sandbox.resolve("\u00e9").rel);
  });
});

describe("Sandbox.resolve: a trailing slash", () => {
  it("marks the path as naming a directory", () => {
    expect(sandbox.resolve("a/b/").dirOnly).toBe(true);
    expect(sandbox.resolve("a/b").dirOnly).toBe(false);
    expect(sandbox.resolve("/").dirOnly).toBe(false);
  });
});

describe("Sandbox.followLink: where a link leads, from its text alone", () => {
  const follow = (dir: string[], target: string, rest: string[] = []) =>
    sandbox.followLink(dir, target, rest, "p");
  it.each([
    [["a"], "b", [], ["a", "b"]],
    [["a"], "../b", ["c"], ["b", "c"]],
    [["a", "b"], "./../../x/./y", [], ["x", "y"]],
    [[], `${ROOT}/in/side`, ["z"], ["in", "side", "z"]],
    [["a"], ROOT, [], []],
    [["a"], "b//c/", [], ["a", "b", "c"]],
  ])("%j + %j + %j → %j", (dir, target, rest, names) => {
    expect(follow(dir, target, rest)).toEqual(names);
  });
  it.each([
    [[], ".."],
    [["a"], "../.."],
    [[], "/etc/passwd"],
    [[], `${ROOT}-evil/x`],
    [[], "/srv"],
    [[], STAGING_DIR],
    [["a"], `../${STAGING_DIR}/x`],
    [[], `${ROOT}/${STAGING_DIR}`],
    [["a"], `b/${STAGING_DIR}`],
  ])("%j + %j is EBADPATH", (dir, target) => {
    expect(code(() => follow(dir, target))).toBe("EBADPATH");
  });
});
