import { describe, expect, it } from "vitest";
import { batchLines, quoteWord, splitArgs, splitCommands, splitLine } from "./args.js";
import { CliError } from "./errors.js";

const texts = (line: string): string[] => splitArgs(line).map((t) => t.text);

describe("splitArgs", () => {
  it("splits on runs of whitespace", () => {
    expect(texts("  put  a.txt\t/b.txt ")).toEqual(["put", "a.txt", "/b.txt"]);
    expect(texts("")).toEqual([]);
  });

  it("keeps spaces inside quotes and joins adjacent quoted parts", () => {
    expect(texts(`put "my file.txt" 'other name'`)).toEqual(["put", "my file.txt", "other name"]);
    expect(texts(`get a"b c"'d e'`)).toEqual(["get", "ab cd e"]);
    expect(texts(`x ""`)).toEqual(["x", ""]);
  });

  it("handles backslash escapes outside and inside double quotes", () => {
    expect(texts(String.raw`put my\ file.txt`)).toEqual(["put", "my file.txt"]);
    expect(texts(String.raw`put "say \"hi\"" "back\\slash" "keep\n"`)).toEqual([
      "put",
      `say "hi"`,
      "back\\slash",
      "keep\\n",
    ]);
    expect(texts(String.raw`put 'no \escape'`)).toEqual(["put", "no \\escape"]);
  });

  it("marks only unquoted wildcards as globs", () => {
    const [a, b, c, d] = splitArgs(String.raw`*.txt "*.txt" \*.txt 'a[1]'*`);
    expect(a).toEqual({ text: "*.txt", pattern: "*.txt", glob: true });
    expect(b).toEqual({ text: "*.txt", pattern: "\\*.txt", glob: false });
    expect(c).toEqual({ text: "*.txt", pattern: "\\*.txt", glob: false });
    expect(d).toEqual({ text: "a[1]*", pattern: "a\\[1]*", glob: true });
  });

  it("rejects an unterminated quote or a trailing backslash", () => {
    for (const bad of [`put "a`, `put 'a`, "put a\\"]) {
      expect(() => splitArgs(bad)).toThrow(CliError);
      try {
        splitArgs(bad);
      } catch (err) {
        expect((err as CliError).code).toBe("EUSAGE");
      }
    }
  });

  it("in completion mode reports the open quote and where the last word starts", () => {
    expect(splitLine(`get "my fi`, true)).toMatchObject({ openQuote: '"', lastStart: 4 });
    expect(splitLine(`get my\\ fi`, true)).toMatchObject({ openQuote: null, lastStart: 4 });
    expect(splitLine(`get `, true)).toMatchObject({ lastStart: 4 });
  });
});

describe("quoteWord", () => {
  it("round-trips through splitArgs", () => {
    for (const word of ["plain", "with space", `q"uo'te`, "star*", "back\\slash", "semi;colon", "#hash"]) {
      expect(texts(quoteWord(word))).toEqual([word]);
    }
  });
});

describe("splitCommands", () => {
  it("splits on ; and newlines outside quotes", () => {
    expect(splitCommands(`put a; get "x;y" ; ls 'a;b';;`)).toEqual([`put a`, `get "x;y"`, `ls 'a;b'`]);
    expect(splitCommands("pwd\nls\n")).toEqual(["pwd", "ls"]);
    expect(splitCommands(String.raw`put a\;b`)).toEqual([String.raw`put a\;b`]);
  });
});

describe("batchLines", () => {
  it("skips blank lines and # comments", () => {
    expect(batchLines("# header\nopen x\n\n  # indented comment\n-rm a\r\nls\n")).toEqual([
      "open x",
      "-rm a",
      "ls",
    ]);
  });
});
