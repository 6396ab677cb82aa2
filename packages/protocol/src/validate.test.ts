import { describe, expect, it } from "vitest";
import { FerryError } from "./errors.js";
import { MAX_SIZE } from "./limits.js";
import {
  arrayOf,
  boolean,
  hex,
  integer,
  literal,
  md5Hex,
  object,
  oneOf,
  optional,
  path,
  size,
  string,
} from "./validate.js";

/** The FerryError a check throws for `value`, or fails the test. */
function failure(check: (v: unknown, f: string) => unknown, value: unknown, field = "f"): FerryError {
  try {
    check(value, field);
  } catch (err) {
    expect(err).toBeInstanceOf(FerryError);
    return err as FerryError;
  }
  throw new Error(`accepted ${String(value)}`);
}

describe("validate", () => {
  it("string and boolean accept only their type", () => {
    expect(string("", "f")).toBe("");
    expect(boolean(false, "f")).toBe(false);
    for (const v of [1, null, undefined, {}, []]) expect(failure(string, v).code).toBe("EPROTO");
    for (const v of [0, "true", null, undefined]) expect(failure(boolean, v).code).toBe("EPROTO");
  });

  it("integer checks type, wholeness and range", () => {
    const port = integer(1, 65535);
    expect(port(1, "p")).toBe(1);
    expect(port(65535, "p")).toBe(65535);
    for (const v of [0, 65536, 1.5, Number.NaN, Number.POSITIVE_INFINITY, "80", null, 2n]) {
      expect(failure(port, v, "port").details.field).toBe("port");
    }
    expect(size(MAX_SIZE, "s")).toBe(MAX_SIZE);
    expect(failure(size, MAX_SIZE + 1).code).toBe("EPROTO");
    expect(failure(size, -1).code).toBe("EPROTO");
    expect(failure(size, -Number.MIN_VALUE).code).toBe("EPROTO");
  });

  it("hex and md5Hex accept exactly their length of lower-case digits", () => {
    expect(md5Hex("0123456789abcdef0123456789abcdef", "m")).toBe("0123456789abcdef0123456789abcdef");
    expect(hex(4)("beef", "h")).toBe("beef");
    for (const v of ["BEEF", "bee", "beefa", "be ef", "beeg", "", 1234])
      expect(failure(hex(4), v).code).toBe("EPROTO");
    expect(failure(md5Hex, `${"a".repeat(32)}\n`).code).toBe("EPROTO");
  });

  it("oneOf and literal", () => {
    const kind = oneOf(["file", "dir"] as const);
    expect(kind("dir", "k")).toBe("dir");
    expect(failure(kind, "toString").code).toBe("EPROTO");
    expect(literal(true)(true, "ok")).toBe(true);
    expect(failure(literal(true), "true").code).toBe("EPROTO");
  });

  it("path gives EBADPATH for empty, NUL, too long or lone surrogates, EPROTO for a non-string", () => {
    expect(path("a/b", "p")).toBe("a/b");
    expect(path("😀", "p")).toBe("😀");
    expect(failure(path, "").code).toBe("EBADPATH");
    expect(failure(path, "\u0000").code).toBe("EBADPATH");
    expect(failure(path, "a".repeat(4097)).code).toBe("EBADPATH");
    expect(failure(path, "\udc00").code).toBe("EBADPATH");
    expect(failure(path, "😀".slice(0, 1)).code).toBe("EBADPATH");
    expect(failure(path, 1).code).toBe("EPROTO");
  });

  it("optional passes undefined through but not null", () => {
    const maybe = optional(string);
    expect(maybe(undefined, "o")).toBeUndefined();
    expect(failure(maybe, null).code).toBe("EPROTO");
  });

  it("arrayOf names the failing index", () => {
    const list = arrayOf(integer(0, 9));
    expect(list([1, 2], "l")).toEqual([1, 2]);
    expect(failure(list, [1, 10], "l").details.field).toBe("l[1]");
    expect(failure(list, "1,2", "l").details.field).toBe("l");
  });

  it("object checks named fields, names nested ones and drops unknown ones", () => {
    const shape = object({ a: integer(), b: optional(object({ c: string })) });
    expect(shape({ a: 1, x: 2 }, "")).toEqual({ a: 1 });
    expect(shape({ a: 1, b: { c: "" } }, "")).toEqual({ a: 1, b: { c: "" } });
    expect(failure(shape, { a: 1, b: { c: 1 } }, "").details.field).toBe("b.c");
    expect(failure(shape, { a: -1 }, "").details.field).toBe("a");
    for (const v of [null, [], "x", 1]) expect(failure(shape, v, "top").details.field).toBe("top");
  });
});
