import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { isSafeRemoteName, printable, resolveLocalTarget } from "./safe-names.js";

describe("isSafeRemoteName", () => {
  it.each(["a.txt", "with space", "ünïcødé-名前.bin", "emoji-👩‍👩‍👧.txt", ".hidden", "...", "a".repeat(255)])(
    "accepts %j",
    (name) => {
      expect(isSafeRemoteName(name)).toBe(true);
    },
  );

  it.each([
    ["empty", ""],
    ["dot", "."],
    ["dotdot", ".."],
    ["slash", "a/b"],
    ["absolute", "/etc/passwd"],
    ["climbing", "../x"],
    ["backslash", "..\\x"],
    ["NUL", "a\0b"],
    ["newline", "a\nb"],
    ["escape", "\x1b[2Jx"],
    ["DEL", "a\x7f"],
    ["C1 CSI", "a\u009bb"],
    ["over 255 bytes", "é".repeat(128)],
    ["lone surrogate", "a\ud800b"],
  ])("rejects %s", (_label, name) => {
    expect(isSafeRemoteName(name)).toBe(false);
  });
});

describe("resolveLocalTarget", () => {
  const dest = resolve("/tmp/dest");

  it("joins safe names inside the destination", () => {
    expect(resolveLocalTarget(dest, "a.txt")).toBe(join(dest, "a.txt"));
    expect(resolveLocalTarget(dest, "sub", "deeper", "b.bin")).toBe(join(dest, "sub", "deeper", "b.bin"));
  });

  it.each([[".."], ["../evil"], ["/etc/passwd"], ["a/../../b"], ["."], [""], ["x\0"]])(
    "throws EBADPATH for %j",
    (name) => {
      expect(() => resolveLocalTarget(dest, name)).toThrow(expect.objectContaining({ code: "EBADPATH" }));
    },
  );

  it("checks every name of a nested path", () => {
    expect(() => resolveLocalTarget(dest, "ok", "..", "x")).toThrow(
      expect.objectContaining({ code: "EBADPATH" }),
    );
    expect(() => resolveLocalTarget(dest)).toThrow(expect.objectContaining({ code: "EBADPATH" }));
  });
});

describe("printable", () => {
  it("leaves ordinary names alone", () => {
    expect(printable("report 2024 (final).pdf")).toBe("report 2024 (final).pdf");
    expect(printable("ünïcødé-名前-👩‍👩‍👧")).toBe("ünïcødé-名前-👩‍👩‍👧");
  });

  it("shows escape sequences and control characters as text", () => {
    expect(printable("\x1b[2J\x1b]0;pwned\x07evil")).toBe("\\x1b[2J\\x1b]0;pwned\\x07evil");
    expect(printable("a\rb\nc\td\0e")).toBe("a\\x0db\\x0ac\\x09d\\x00e");
    expect(printable("csi\u009b31m")).toBe("csi\\x9b31m");
    expect(printable("del\x7f")).toBe("del\\x7f");
  });

  it("shows bidi overrides and line separators", () => {
    expect(printable("invoice\u202efdp.exe")).toBe("invoice\\u202efdp.exe");
    expect(printable("a\u2028b")).toBe("a\\u2028b");
  });

  it("is unambiguous: a literal backslash is doubled", () => {
    expect(printable("\\x1b")).toBe("\\\\x1b");
    expect(printable("\x1b")).not.toBe(printable("\\x1b"));
  });

  it("escapes lone surrogates but keeps pairs", () => {
    expect(printable("a\ud800b")).toBe("a\\ud800b");
    expect(printable("\udc00")).toBe("\\udc00");
    expect(printable("😀")).toBe("😀");
  });

  it("never outputs a control character", () => {
    let all = "";
    for (let c = 0; c < 0x100; c++) all += String.fromCharCode(c);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: asserting their absence
    expect(printable(all)).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
  });
});
