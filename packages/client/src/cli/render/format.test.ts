import { describe, expect, it } from "vitest";
import { formatMtime, humanDuration, humanRate, humanSize, percent } from "./format.js";

describe("format", () => {
  it("humanSize uses binary units with one decimal", () => {
    expect(humanSize(0)).toBe("0 B");
    expect(humanSize(1023)).toBe("1023 B");
    expect(humanSize(1024)).toBe("1.0 KiB");
    expect(humanSize(64 * 1024 * 1024)).toBe("64.0 MiB");
    expect(humanSize(1024 * 1024 - 1)).toBe("1.0 MiB");
    expect(humanSize(2 ** 40)).toBe("1.0 TiB");
  });

  it("humanRate and humanDuration", () => {
    expect(humanRate(412 * 1024 * 1024)).toBe("412.0 MiB/s");
    expect(humanRate(0)).toBe("-- B/s");
    expect(humanDuration(7.4)).toBe("7s");
    expect(humanDuration(125)).toBe("2m05s");
    expect(humanDuration(3720)).toBe("1h02m");
    expect(humanDuration(Number.POSITIVE_INFINITY)).toBe("--");
  });

  it("percent and mtime", () => {
    expect(percent(1, 3)).toBe("33%");
    expect(percent(0, 0)).toBe("100%");
    const d = new Date(2025, 0, 2, 3, 4);
    expect(formatMtime(d.getTime())).toBe("2025-01-02 03:04");
  });
});
