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
