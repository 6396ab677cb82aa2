import { describe, expect, it } from "vitest";
import { splitArgs } from "./args.js";
import { type OptionSpec, shortFlags, takeOptions } from "./command-options.js";

const SPECS: OptionSpec[] = [
  { long: "reverse", short: "R" },
  { long: "dereference", short: "L" },
  { long: "delete" },
  { long: "exclude", value: true },
  { long: "include", value: true },
  { long: "max-delete", value: true },
];

const parse = (line: string) => {
  const p = takeOptions(splitArgs(line), SPECS);
  return { flags: [...p.flags].sort(), values: p.values, positionals: p.positionals.map((t) => t.text) };
};

describe("takeOptions with long options", () => {
  it("takes flags anywhere, combined short ones, values with = or as the next word, in order", () => {
    expect(parse("-RL src --delete --exclude '*.log' --include=keep.log dst --max-delete 5")).toEqual({
      flags: ["delete", "dereference", "reverse"],
      values: [
        { name: "exclude", value: "*.log" },
        { name: "include", value: "keep.log" },
        { name: "max-delete", value: "5" },
      ],
      positionals: ["src", "dst"],
    });
  });

  it("-- ends the options: a file named -R is a path", () => {
    expect(parse("--delete -- -R --exclude").positionals).toEqual(["-R", "--exclude"]);
  });

  it("an unknown option, a missing value or a value for a flag is EUSAGE naming it", () => {
    for (const [line, named] of [
      ["--bogus x", "--bogus"],
      ["-Rx src", "-x"],
      ["src --exclude", "--exclude"],
      ["--delete=yes", "--delete"],
    ] as const) {
      expect(() => parse(line)).toThrow(
        expect.objectContaining({ code: "EUSAGE", message: expect.stringContaining(named) }),
      );
    }
  });
});

describe("takeOptions with letters only", () => {
  it("takes single-letter flags, combined or not, anywhere up to --", () => {
    const { flags, positionals: rest } = takeOptions(splitArgs("-r dir -h"), shortFlags("rh"));
    expect([...flags].sort()).toEqual(["h", "r"]);
    expect(rest.map((t) => t.text)).toEqual(["dir"]);
    expect(takeOptions(splitArgs("-rh -- -odd -r"), shortFlags("rh")).positionals.map((t) => t.text)).toEqual(
      ["-odd", "-r"],
    );
    // A lone dash is a word (cd -), not an option.
    expect(takeOptions(splitArgs("-"), []).positionals.map((t) => t.text)).toEqual(["-"]);
  });

  it("never takes an option for a path: an unknown one is EUSAGE naming it", () => {
    expect(() => takeOptions(splitArgs("-z a"), shortFlags("r"))).toThrow(/^unknown option -z$/);
    // Before this, a flag after a path was sent as a path name.
    expect(() => takeOptions(splitArgs("dir -x"), shortFlags("r"))).toThrow(/^unknown option -x$/);
    expect(() => takeOptions(splitArgs("a --bogus"), shortFlags("r"))).toThrow(/^unknown option --bogus$/);
    expect(() => takeOptions(splitArgs("-5"), shortFlags("r"))).toThrow(/^unknown option -5$/);
    expect(() => takeOptions(splitArgs("-q"), shortFlags("r"))).toThrow(
      expect.objectContaining({ code: "EUSAGE" }),
    );
    // A letter has no long spelling of its own.
    expect(() => takeOptions(splitArgs("--r"), shortFlags("r"))).toThrow(/^unknown option --r$/);
    // An option pasted by mistake stays a one-line error.
    expect(() => takeOptions(splitArgs(`--${"x".repeat(100)}`), [])).toThrow(/^unknown option --x{38}…$/);
  });
});
