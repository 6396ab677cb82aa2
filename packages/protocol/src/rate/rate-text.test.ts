import { describe, expect, it } from "vitest";
import { parseByteRate } from "./rate-text.js";

describe("parseByteRate", () => {
  it.each([
    ["1048576", 1048576],
    ["500K", 500 * 1024],
    ["500k", 500 * 1024],
    ["10M", 10 * 1024 * 1024],
    ["10MiB", 10 * 1024 * 1024],
    ["10MB/s", 10 * 1024 * 1024],
    ["1.5G", 1.5 * 1024 ** 3],
    [" 2T ", 2 * 1024 ** 4],
  ])("reads %j as %d bytes", (text, bytes) => {
    expect(parseByteRate(text)).toBe(bytes);
  });

  it.each(["", "fast", "-1", "0", "10X", "1e6", "M", "0.1"])("refuses %j", (text) => {
    expect(parseByteRate(text)).toBeNull();
  });
});
