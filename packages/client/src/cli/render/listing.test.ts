import type { Entry } from "@ferry/protocol";
import { describe, expect, it } from "vitest";
import { arrange, columnLines, listingStyle } from "./listing.js";

const e = (name: string, size: number, mtime: number, type: Entry["type"] = "file"): Entry => ({
  name,
  type,
  size,
  mtime,
  md5: undefined,
});
const entries = [e(".hidden", 1, 5), e("a", 30, 1), e("b", 10, 3), e("c", 20, 2)];
const names = (list: Entry[]) => list.map((x) => x.name);

describe("ls order and filters", () => {
  it("hides dot names without -a; -t newest first, -S largest first, -r reverses", () => {
    expect(names(arrange(entries, listingStyle(new Set())))).toEqual(["a", "b", "c"]);
    expect(names(arrange(entries, listingStyle(new Set(["a"]))))).toEqual([".hidden", "a", "b", "c"]);
    expect(names(arrange(entries, listingStyle(new Set(["t"]))))).toEqual(["b", "c", "a"]);
    expect(names(arrange(entries, listingStyle(new Set(["S"]))))).toEqual(["a", "c", "b"]);
    expect(names(arrange(entries, listingStyle(new Set(["S", "r"]))))).toEqual(["b", "c", "a"]);
  });

  it("lays short names out in columns, top to bottom, within the width", () => {
    const list = ["alpha", "bravo", "charlie", "delta", "echo"];
    expect(columnLines(list, 80)).toEqual(["alpha  bravo  charlie  delta  echo"]);
    expect(columnLines(list, 20)).toEqual(["alpha  charlie  echo", "bravo  delta"]);
    expect(columnLines(list, 5)).toEqual(list);
    for (const line of columnLines(list, 20)) expect(line.length).toBeLessThanOrEqual(20);
  });
});
