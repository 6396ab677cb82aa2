import { homedir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { defaultStateDir } from "./identity.js";

describe("defaultStateDir", () => {
  it("is $XDG_STATE_HOME/ferryd, or ~/.local/state/ferryd when it is unset or not absolute", () => {
    expect(defaultStateDir({ XDG_STATE_HOME: "/var/state" })).toBe("/var/state/ferryd");
    const fallback = path.join(homedir(), ".local", "state", "ferryd");
    expect(defaultStateDir({})).toBe(fallback);
    expect(defaultStateDir({ XDG_STATE_HOME: "" })).toBe(fallback);
    // The XDG spec: a relative path is invalid and must be ignored.
    expect(defaultStateDir({ XDG_STATE_HOME: "relative/dir" })).toBe(fallback);
  });
});
