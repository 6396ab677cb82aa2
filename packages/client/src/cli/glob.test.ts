import { describe, expect, it } from "vitest";
import { expandGlob, type GlobEntry, globToRegExp, hasGlob, unescapeGlob } from "./glob.js";
import { joinRemote } from "./paths.js";

describe("globToRegExp", () => {
  const match = (pattern: string, name: string): boolean => globToRegExp(pattern).test(name);

  it("matches *, ? and classes within one name", () => {
    expect(match("*.txt", "a.txt")).toBe(true);
    expect(match("*.txt", "a.txt.bak")).toBe(false);
    expect(match("?.bin", "a.bin")).toBe(true);
    expect(match("?.bin", "ab.bin")).toBe(false);
    expect(match("[ab]*", "beta")).toBe(true);
    expect(match("[!ab]*", "beta")).toBe(false);
    expect(match("[a-c]x", "bx")).toBe(true);
    expect(match("*", "über ☃.txt")).toBe(true);
  });

  it("does not let wildcards match a leading dot", () => {
    expect(match("*", ".hidden")).toBe(false);
    expect(match(".*", ".hidden")).toBe(true);
  });

  it("treats escaped and regex-special characters literally", () => {
    expect(match("\\*.txt", "*.txt")).toBe(true);
    expect(match("\\*.txt", "a.txt")).toBe(false);
    expect(match("a+(b).txt", "a+(b).txt")).toBe(true);
    expect(match("a[", "a[")).toBe(true);
  });

  it("hasGlob and unescapeGlob see escapes", () => {
    expect(hasGlob("a*")).toBe(true);
    expect(hasGlob("a\\*")).toBe(false);
    expect(unescapeGlob("a\\*\\\\b")).toBe("a*\\b");
  });
});

describe("expandGlob", () => {
  const tree: Record<string, GlobEntry[]> = {
    "/": [
      { name: "a.txt", type: "file" },
      { name: "b.txt", type: "file" },
      { name: "docs", type: "dir" },
      { name: "img", type: "dir" },
    ],
    "/docs": [{ name: "x.txt", type: "file" }],
    "/img": [{ name: "y.png", type: "file" }],
  };
  const list = async (dir: string): Promise<GlobEntry[]> => {
    const entries = tree[dir];
    if (!entries) throw Object.assign(new Error(`no ${dir}`), { code: "ENOENT" });
    return entries;
  };
  const paths = async (pattern: string, root = "/"): Promise<string[]> =>
    (await expandGlob(pattern, root, list, joinRemote)).map((m) => m.path);

  it("expands the last segment and keeps literals as they are", async () => {
    expect(await paths("*.txt")).toEqual(["/a.txt", "/b.txt"]);
    expect(await paths("docs/missing.txt")).toEqual(["/docs/missing.txt"]);
  });

  it("expands directory segments and only descends into directories", async () => {
    expect(await paths("/*/*")).toEqual(["/docs/x.txt", "/img/y.png"]);
    expect(await paths("*/x.txt")).toEqual(["/docs/x.txt", "/img/x.txt"]);
  });

  it("returns nothing when nothing matches and reports a missing directory", async () => {
    expect(await paths("*.none")).toEqual([]);
    await expect(paths("nodir/*")).rejects.toMatchObject({ code: "ENOENT" });
  });
});
