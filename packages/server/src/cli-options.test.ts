import { describe, expect, it } from "vitest";
import { parseCli, UsageError } from "./cli-options.js";

function run(argv: string[], env: NodeJS.ProcessEnv = {}) {
  const parsed = parseCli(["--root", "/srv", ...argv], env);
  if (parsed.kind !== "run") throw new Error(`not a run: ${parsed.kind}`);
  return parsed.options;
}

describe("ferryd --max-rate", () => {
  it("reads human rates from the flag or FERRY_MAX_RATE, the flag winning", () => {
    expect(run(["--max-rate", "500K"]).maxRate).toBe(500 * 1024);
    expect(run([], { FERRY_MAX_RATE: "10M" }).maxRate).toBe(10 * 1024 * 1024);
    expect(run(["--max-rate", "1M"], { FERRY_MAX_RATE: "10M" }).maxRate).toBe(1024 * 1024);
    expect(run([]).maxRate).toBeUndefined();
  });

  it("refuses a rate that is not one", () => {
    for (const bad of ["fast", "0", "10X"]) {
      expect(() => run(["--max-rate", bad])).toThrow(UsageError);
      expect(() => run(["--max-rate", bad])).toThrow(/must be a rate like 500K/);
    }
  });
});

describe("ferryd --storage", () => {
  const parse = (argv: string[], env: NodeJS.ProcessEnv = {}) => {
    const parsed = parseCli(argv, env);
    if (parsed.kind !== "run") throw new Error(`not a run: ${parsed.kind}`);
    return parsed.options;
  };

  it("names what to serve, from the flag or FERRY_STORAGE; --root is the same for a directory", () => {
    expect(parse(["--storage", "file:/srv/files"]).root).toBe("file:/srv/files");
    expect(parse([], { FERRY_STORAGE: "/srv/files" }).root).toBe("/srv/files");
    expect(parse(["--root", "/srv/files"]).root).toBe("/srv/files");
  });

  it("refuses --storage together with --root or --users", () => {
    expect(() => parse(["--storage", "/a", "--root", "/b"])).toThrow(UsageError);
    expect(() => parse(["--storage", "/a", "--users", "/u.json"])).toThrow(UsageError);
  });
});
