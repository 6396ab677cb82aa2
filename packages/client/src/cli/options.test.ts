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

  it("takes the password from FERRY_PASSWORD or --password-file, never from argv", () => {
    expect(parseOptions(["alice@h"], { FERRY_PASSWORD: "pw" })).toMatchObject({
      host: "alice@h",
      password: "pw",
    });
    expect(parseOptions([], {}).password).toBeUndefined();
    expect(() => parseOptions(["--password", "pw"], {})).toThrow(expect.objectContaining({ code: "EUSAGE" }));
  });

  it("rejects bad usage with EUSAGE", () => {
    for (const argv of [
      ["--nope"],
      ["a", "b"],
      ["-c", "x", "-b", "y"],
      ["--port", "0"],
      ["--secret-file", "/nonexistent/x"],
      ["--password-file", "/nonexistent/x"],
    ]) {
      expect(() => parseOptions(argv, {})).toThrow(expect.objectContaining({ code: "EUSAGE" }));
    }
  });
});
