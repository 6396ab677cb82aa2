import { describe, expect, it } from "vitest";
import { splitArgs } from "./args.js";
import { type OptionSpec, parseLongOptions } from "./long-options.js";

const SPECS: OptionSpec[] = [
  { long: "reverse", short: "R" },
  { long: "dereference", short: "L" },
  { long: "delete" },
  { long: "exclude", value: true },
  { long: "include", value: true },
  { long: "max-delete", value: true },
];

const parse = (line: string) => {
  const p = parseLongOptions(splitArgs(line), SPECS);
  return { flags: [...p.flags].sort(), values: p.values, positionals: p.positionals.map((t) => t.text) };
};

describe("parseLongOptions", () => {
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
