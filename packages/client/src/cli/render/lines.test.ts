import { describe, expect, it } from "vitest";
import { skipLine, transferJson, transferLine } from "./lines.js";

const summary = {
  op: "put" as const,
  from: "a.bin",
  to: "/a.bin",
  size: 64 * 1024 * 1024,
  alg: "md5" as const,
  hash: "0".repeat(32),
  transferred: 64 * 1024 * 1024,
  resumedFrom: 0,
  seconds: 64 / 412,
};

describe("transfer lines", () => {
  it("prints the issue's line format", () => {
    expect(transferLine(summary)).toBe("put a.bin → /a.bin 64.0 MiB 412.0 MiB/s md5 ok");
  });

  it("mentions a resume", () => {
    const line = transferLine({ ...summary, op: "get", resumedFrom: 1024, transferred: summary.size - 1024 });
    expect(line).toMatch(/^get a\.bin → \/a\.bin 64\.0 MiB .* md5 ok \(resumed at 1\.0 KiB\)$/);
  });

  it("skips and json", () => {
    expect(skipLine("get", "/x", "x", "exists")).toBe("get /x → x skipped (exists)");
    expect(transferJson(summary)).toMatchObject({
      kind: "transfer",
      op: "put",
      size: summary.size,
      check: "ok",
    });
  });
});
