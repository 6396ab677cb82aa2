import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checksumsNeeded, planMirror, type Tree, type TreeEntry } from "./plan.js";

const T0 = 1_763_942_400_000;
const file = (size: number, mtime = T0, hash?: string): TreeEntry => ({ type: "file", size, mtime, hash });
const dir = (): TreeEntry => ({ type: "dir", size: 0, mtime: T0 });
const tree = (entries: Record<string, TreeEntry>): Tree => new Map(Object.entries(entries));

describe("planMirror", () => {
  it("into an empty target: every directory (parents first) and every file", () => {
    const source = tree({ a: dir(), "a/b": dir(), "a/b/x": file(3), y: file(5), "a/z": file(0) });
    const plan = planMirror(source, tree({}));
    expect(plan.mkdirs).toEqual(["a", "a/b"]);
    expect(plan.transfers.map((t) => [t.path, t.reason, t.replaces])).toEqual([
      ["a/b/x", "new", false],
      ["a/z", "new", false],
      ["y", "new", false],
    ]);
    expect(plan.bytes).toBe(8);
    expect(plan.deletes).toEqual([]);
  });

  it("an identical tree: nothing to do", () => {
    const t = tree({ a: dir(), "a/x": file(3), y: file(5, T0 + 7) });
    const plan = planMirror(t, new Map(t), { delete: true });
    expect(plan).toMatchObject({ mkdirs: [], transfers: [], deletes: [], conflicts: [], unchanged: 2 });
  });

  it("by size and mtime (to the millisecond), or by md5 with checksum", () => {
    const source = tree({ s: file(4), m: file(4, T0 + 1), same: file(4, T0, "a".repeat(32)) });
    const target = tree({ s: file(5), m: file(4), same: file(4, T0 + 9, "a".repeat(32)) });
    expect(planMirror(source, target).transfers.map((t) => [t.path, t.reason])).toEqual([
      ["m", "mtime"],
      ["s", "size"],
      ["same", "mtime"],
    ]);
    const byMd5 = planMirror(source, target, { checksum: true }).transfers.map((t) => [t.path, t.reason]);
    // m has no md5 on either side: unknown is transferred, never assumed equal.
    expect(byMd5).toEqual([
      ["m", "hash unknown"],
      ["s", "size"],
    ]);
  });

  it("only-newer leaves a target file that is as new or newer, whatever its size", () => {
    const source = tree({ old: file(10, T0), new: file(10, T0 + 5), eq: file(1, T0) });
    const target = tree({ old: file(99, T0 + 1), new: file(1, T0), eq: file(1, T0) });
    const plan = planMirror(source, target, { onlyNewer: true });
    expect(plan.transfers.map((t) => [t.path, t.reason])).toEqual([["new", "newer"]]);
    expect(plan.notNewer).toEqual(["old"]);
    expect(plan.unchanged).toBe(1);
  });

  it("with delete: what the source lacks goes, children before their directories", () => {
    const source = tree({ keep: file(1) });
    const target = tree({ keep: file(1), gone: dir(), "gone/sub": dir(), "gone/sub/f": file(2), x: file(3) });
    const plan = planMirror(source, target, { delete: true });
    expect(plan.deletes.map((d) => d.path)).toEqual(["gone/sub/f", "gone/sub", "gone", "x"]);
    expect(planMirror(source, target).deletes).toEqual([]);
  });

  it("never deletes what the filters exclude, nor the directories holding it", () => {
    const target = tree({
      cache: dir(),
      "cache/big": file(9),
      logs: dir(),
      "logs/a.log": file(1),
      "logs/b.txt": file(1),
    });
    const plan = planMirror(tree({}), target, {
      delete: true,
      filters: [
        { kind: "exclude", pattern: "cache/" },
        { kind: "exclude", pattern: "*.log" },
      ],
    });
    expect(plan.deletes.map((d) => d.path)).toEqual(["logs/b.txt"]);
  });

  it("filters leave out source files and whole directories", () => {
    const source = tree({
      a: file(1),
      "b.log": file(1),
      nm: dir(),
      "nm/x": file(1),
      sub: dir(),
      "sub/c.log": file(1),
    });
    const plan = planMirror(source, tree({}), {
      filters: [
        { kind: "exclude", pattern: "*.log" },
        { kind: "exclude", pattern: "nm" },
      ],
    });
    expect(plan.mkdirs).toEqual(["sub"]);
    expect(plan.transfers.map((t) => t.path)).toEqual(["a"]);
    expect(plan.excluded).toBe(4);
  });

  it("a directory against a file (either way) or a link is a conflict, left alone with what is below it", () => {
    const source = tree({ d: dir(), "d/x": file(1), f: file(1), l: file(1) });
    const target = tree({
      d: file(5),
      f: dir(),
      "f/inner": file(1),
      l: { type: "link", size: 0, mtime: T0 },
    });
    const plan = planMirror(source, target, { delete: true });
    expect(plan.conflicts).toEqual([
      { path: "d", source: "dir", target: "file" },
      { path: "f", source: "file", target: "dir" },
      { path: "l", source: "file", target: "link" },
    ]);
    expect(plan.transfers).toEqual([]);
    expect(plan.mkdirs).toEqual([]);
    expect(plan.deletes).toEqual([]);
  });

  it("keeps a download's NAME.part beside NAME: the partial it resumes from", () => {
    const source = tree({ big: file(100) });
    const target = tree({ "big.part": file(40), "stale.part": file(1) });
    const plan = planMirror(source, target, { delete: true, partialSuffix: ".part" });
    expect(plan.transfers.map((t) => t.path)).toEqual(["big"]);
    expect(plan.deletes.map((d) => d.path)).toEqual(["stale.part"]);
  });

  it("applying the plan gives the target the source's files, and a second plan is empty (property)", () => {
    const name = fc.constantFrom("a", "b", "c", "d.log");
    const entry = fc.oneof(
      fc.constant(dir()),
      fc.record({
        type: fc.constant("file" as const),
        size: fc.integer({ min: 0, max: 3 }),
        mtime: fc.integer({ min: T0, max: T0 + 2 }),
      }),
    );
    const arbTree = fc
      .array(fc.tuple(fc.array(name, { minLength: 1, maxLength: 3 }), entry), { maxLength: 12 })
      .map((items) => {
        const t = new Map<string, TreeEntry>();
        for (const [names, e] of items) {
          // Parents are directories, as on a real disk.
          for (let i = 1; i < names.length; i++) {
            const parent = names.slice(0, i).join("/");
            if (t.get(parent)?.type !== "dir") {
              for (const k of [...t.keys()]) if (k === parent || k.startsWith(`${parent}/`)) t.delete(k);
              t.set(parent, dir());
            }
          }
          const p = names.join("/");
          if (t.get(p)?.type === "dir" && e.type === "file") continue;
          t.set(p, e);
        }
        return t;
      });
    fc.assert(
      fc.property(arbTree, arbTree, fc.boolean(), (source, target, del) => {
        const filters = [{ kind: "exclude" as const, pattern: "*.log" }];
        const plan = planMirror(source, target, { delete: del, filters });
        const after = new Map(target);
        for (const d of plan.deletes) after.delete(d.path);
        for (const m of plan.mkdirs) after.set(m, dir());
        for (const t of plan.transfers) after.set(t.path, file(t.size, t.mtime));
        const again = planMirror(source, after, { delete: del, filters });
        // Converged: nothing left to do but what conflicts hold back.
        expect(again.transfers).toEqual([]);
        expect(again.mkdirs).toEqual([]);
        expect(again.deletes).toEqual([]);
        expect(again.conflicts).toEqual(plan.conflicts);
        // No path was deleted that the source has, or that the filters exclude.
        for (const d of plan.deletes) {
          expect(source.has(d.path)).toBe(false);
          expect(d.path.endsWith(".log")).toBe(false);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe("checksumsNeeded", () => {
  it("asks only for files both sides have at the same size, on the side that lacks the md5", () => {
    const source = tree({ a: file(1), b: file(2, T0, "b".repeat(32)), c: file(3), d: file(4) });
    const target = tree({ a: file(1, T0, "a".repeat(32)), b: file(2), c: file(9) });
    expect(checksumsNeeded(source, target)).toEqual({ source: ["a"], target: ["b"] });
  });
});
