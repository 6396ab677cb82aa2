import { describe, expect, it } from "vitest";
import { visible } from "./visible.js";

describe("visible", () => {
  it("escapes control and bidi characters but leaves backslashes and plain unicode alone", () => {
    expect(visible("a\u001b[2Jb")).toBe("a\\x1b[2Jb");
    expect(visible("x\u202ey\r\n")).toBe("x\\u202ey\\x0d\\x0a");
    expect(visible("already \\x1b escaped ☃")).toBe("already \\x1b escaped ☃");
  });
});
