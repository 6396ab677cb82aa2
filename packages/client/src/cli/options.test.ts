import { describe, expect, it } from "vitest";
import { parseOptions } from "./options.js";

describe("parseOptions", () => {
  it("reads host, port and flags", () => {
    const o = parseOptions(["--port", "9000", "--yes", "--no-progress", "--json", "127.0.0.1"], {});
    expect(o).toMatchObject({ host: "127.0.0.1", port: 9000, yes: true, progress: false, json: true });
  });

  it("takes a -c value that starts with a dash (ignore-failure prefix)", () => {
    expect(parseOptions(["-c", "-rm x; ls", "h"], {})).toMatchObject({ command: "-rm x; ls", host: "h" });
    // Each -c is kept, in order, not just the last.
    expect(parseOptions(["-c", "put a", "h", "-c", "ls; get b"], {})).toMatchObject({
      command: "put a\nls; get b",
    });
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

  it("reads how to trust the server: TLS with known_hosts by default, a pin, a CA, or plain TCP", () => {
    const fp = `SHA256:${"A".repeat(43)}`;
    expect(parseOptions([], { HOME: "/home/u" })).toMatchObject({
      tls: {},
      acceptNew: false,
      knownHostsFile: "/home/u/.ferry/known_hosts",
    });
    expect(parseOptions([], { FERRY_KNOWN_HOSTS: "/k" }).knownHostsFile).toBe("/k");
    expect(parseOptions(["--known-hosts", "/x", "--accept-new"], {})).toMatchObject({
      knownHostsFile: "/x",
      acceptNew: true,
    });
    const hex = Array.from({ length: 32 }, () => "00").join(":");
    expect(parseOptions(["--fingerprint", hex], {}).tls).toEqual({
      fingerprint: `SHA256:${Buffer.alloc(32).toString("base64").replace(/=$/, "")}`,
    });
    expect(parseOptions([], { FERRY_FINGERPRINT: fp }).tls).toEqual({ fingerprint: fp });
    expect(parseOptions(["--no-tls"], {}).tls).toBe(false);
    expect(parseOptions(["--forget-host", "[::1]:9"], {}).forgetHost).toEqual({ host: "::1", port: 9 });
    expect(parseOptions(["--forget-host", "h"], {}).forgetHost).toEqual({ host: "h", port: 2121 });
  });

  it("rejects trust options that contradict each other or are not fingerprints", () => {
    const fp = `SHA256:${"A".repeat(43)}`;
    for (const argv of [
      ["--no-tls", "--fingerprint", fp],
      ["--no-tls", "--accept-new"],
      ["--fingerprint", fp, "--ca", "/etc/hostname"],
      ["--fingerprint", "SHA256:abc"],
      ["--ca", "/nonexistent/ca.pem"],
      ["--ca", "/etc/hostname"],
    ]) {
      expect(() => parseOptions(argv, {}), argv.join(" ")).toThrow(
        expect.objectContaining({ code: "EUSAGE" }),
      );
    }
  });

  it("names a file it cannot read in one line, and keeps the errno underneath as the cause", () => {
    for (const flag of ["--secret-file", "--password-file", "--ca"]) {
      let thrown: unknown;
      try {
        parseOptions([flag, "/nonexistent/ferry-file", "h"], {});
      } catch (err) {
        thrown = err;
      }
      expect(thrown, flag).toMatchObject({ code: "EUSAGE", cause: { code: "ENOENT" } });
      expect((thrown as Error).message, flag).toMatch(new RegExp(`^${flag} /nonexistent/ferry-file: `));
    }
  });

  it("rejects bad usage with EUSAGE", () => {
    for (const argv of [
      ["--nope"],
      ["a", "b"],
      ["-c", "x", "-b", "y"],
      ["-b", "x", "-b", "y"],
      ["--port", "0"],
      ["--secret-file", "/nonexistent/x"],
      ["--password-file", "/nonexistent/x"],
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
