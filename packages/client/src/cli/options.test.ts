import { describe, expect, it } from "vitest";
import { parseOptions } from "./options.js";

describe("parseOptions", () => {
  it("reads host, port and flags", () => {
    const o = parseOptions(["--port", "9000", "--yes", "--no-progress", "--json", "127.0.0.1"], {});
    expect(o).toMatchObject({ host: "127.0.0.1", port: 9000, yes: true, progress: false, json: true });
  });

  it("takes a -c value that starts with a dash (ignore-failure prefix)", () => {
    expect(parseOptions(["-c", "-rm x; ls", "h"], {})).toMatchObject({ command: "-rm x; ls", host: "h" });
    expect(parseOptions(["-b", "-odd-name"], {})).toMatchObject({ batch: "-odd-name" });
  });

  it("takes the secret from FERRY_SECRET", () => {
    expect(parseOptions([], { FERRY_SECRET: "s" }).secret).toBe("s");
    expect(parseOptions([], {}).secret).toBeUndefined();
  });

  it("rejects bad usage with EUSAGE", () => {
    for (const argv of [
      ["--nope"],
      ["a", "b"],
      ["-c", "x", "-b", "y"],
      ["--port", "0"],
      ["--secret-file", "/nonexistent/x"],
    ]) {
      expect(() => parseOptions(argv, {})).toThrow(expect.objectContaining({ code: "EUSAGE" }));
    }
  });

  it("reads --limit-rate as bytes per second, and refuses one that is not a rate", () => {
    expect(parseOptions(["--limit-rate", "500K", "h"], {}).limitRate).toBe(500 * 1024);
    expect(parseOptions(["--limit-rate", "10M"], {}).limitRate).toBe(10 * 1024 * 1024);
    expect(parseOptions([], {}).limitRate).toBeUndefined();
    for (const bad of ["fast", "0", "10X"]) {
      expect(() => parseOptions(["--limit-rate", bad], {})).toThrow(
        expect.objectContaining({ code: "EUSAGE" }),
      );
    }
  });
});
