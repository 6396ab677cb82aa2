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

describe("ferryd --storage s3://", () => {
  it("takes the store's endpoint, region and part sizes as flags or FERRY_S3_*, never keys", () => {
    const parsed = parseCli(
      ["--storage", "s3://bucket/pre", "--s3-endpoint", "http://127.0.0.1:7480", "--s3-part-size", "16M"],
      { FERRY_S3_REGION: "eu-west-1", FERRY_S3_PARTS_IN_FLIGHT: "3" },
    );
    if (parsed.kind !== "run") throw new Error(parsed.kind);
    expect(parsed.options.root).toBe("s3://bucket/pre");
    expect(parsed.options.s3).toEqual({
      endpoint: "http://127.0.0.1:7480",
      region: "eu-west-1",
      partSize: 16 * 1024 * 1024,
      partsInFlight: 3,
    });
    expect(() => parseCli(["--storage", "s3://b", "--s3-access-key", "AKIA"], {})).toThrow(UsageError);
  });

  it("refuses a part size below S3's 5 MiB", () => {
    expect(() => parseCli(["--storage", "s3://b", "--s3-part-size", "4M"], {})).toThrow(/at least 5M/);
  });
});
