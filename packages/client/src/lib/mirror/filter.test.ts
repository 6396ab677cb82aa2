import { describe, expect, it } from "vitest";
import { compileFilter, globRegExp } from "./filter.js";

const matches = (pattern: string, rel: string, isDir = false) => {
  const { re, dirOnly } = globRegExp(pattern);
  return (!dirOnly || isDir) && re.test(rel);
};

describe("mirror globs", () => {
  it.each([
    ["*.log", "x.log", true],
    ["*.log", "a/b/x.log", true],
    ["*.log", "x.log.txt", false],
    ["*", ".hidden", true],
    ["?.txt", "a.txt", true],
    ["?.txt", "ab.txt", false],
    ["[ab].txt", "b.txt", true],
    ["[!ab].txt", "b.txt", false],
    ["build/*", "build/x", true],
    ["build/*", "build/x/y", false],
    ["build/*", "sub/build/x", false],
    ["/top.txt", "top.txt", true],
    ["/top.txt", "a/top.txt", false],
    ["build/**", "build", true],
    ["build/**", "build/x/y/z", true],
    ["build/**", "builder/x", false],
    ["**/*.c", "x.c", true],
    ["**/*.c", "a/b/x.c", true],
    ["a/**/z", "a/z", true],
    ["a/**/z", "a/b/c/z", true],
    ["a/**/z", "a/bz", false],
    ["a**", "abc/d", true],
    ["\\*.txt", "*.txt", true],
    ["\\*.txt", "a.txt", false],
    ["名前*", "名前 🚢.txt", true],
  ])("%s matches %s: %s", (pattern, rel, expected) => {
    expect(matches(pattern, rel)).toBe(expected);
  });

  it("a trailing / matches directories only", () => {
    expect(matches("cache/", "cache", true)).toBe(true);
    expect(matches("cache/", "cache", false)).toBe(false);
    expect(matches("cache/", "a/cache", true)).toBe(true);
  });
});

describe("compileFilter", () => {
  it("without rules takes everything", () => {
    expect(compileFilter()("any/thing", false)).toBe(true);
  });

  it("--exclude leaves out what matches, and everything below an excluded directory", () => {
    const f = compileFilter([
      { kind: "exclude", pattern: "node_modules" },
      { kind: "exclude", pattern: "*.log" },
    ]);
    expect(f("src/a.ts", false)).toBe(true);
    expect(f("node_modules", true)).toBe(false);
    expect(f("node_modules/x/index.js", false)).toBe(false);
    expect(f("pkg/node_modules/y.js", false)).toBe(false);
    expect(f("logs/today.log", false)).toBe(false);
  });

  it("an --include first means only what it includes, while directories are still walked", () => {
    const f = compileFilter([{ kind: "include", pattern: "*.txt" }]);
    expect(f("a.txt", false)).toBe(true);
    expect(f("deep/er/b.txt", false)).toBe(true);
    expect(f("deep/er", true)).toBe(true);
    expect(f("a.bin", false)).toBe(false);
  });

  it("rules apply in order, a later one overriding an earlier one (lftp)", () => {
    const keep = compileFilter([
      { kind: "exclude", pattern: "*.log" },
      { kind: "include", pattern: "keep.log" },
    ]);
    expect(keep("keep.log", false)).toBe(true);
    expect(keep("drop.log", false)).toBe(false);
    const drop = compileFilter([
      { kind: "include", pattern: "keep.log" },
      { kind: "exclude", pattern: "*.log" },
    ]);
    expect(drop("keep.log", false)).toBe(false);
  });
});
