import path from "node:path";
import { describe, expect, it } from "vitest";
import { isInside, joinRemote, parseHostPort, parseTarget, resolveLocal, resolveRemote } from "./paths.js";

describe("remote paths", () => {
  it("resolves against the remote cwd", () => {
    expect(resolveRemote("/", "a/b")).toBe("/a/b");
    expect(resolveRemote("/a/b", "../c")).toBe("/a/c");
    expect(resolveRemote("/a", "..")).toBe("/");
    expect(resolveRemote("/a/b", "/c")).toBe("/c");
    expect(resolveRemote("/a", "")).toBe("/a");
    expect(resolveRemote("/a", "./x/")).toBe("/a/x");
    expect(joinRemote("/", "x")).toBe("/x");
    expect(joinRemote("/d", "x")).toBe("/d/x");
  });

  it("leaves a path that climbs above the root as typed, for the server to refuse", () => {
    expect(resolveRemote("/a", "../../x")).toBe("/a/../../x");
    expect(resolveRemote("/", "../escape.txt")).toBe("/../escape.txt");
    expect(resolveRemote("/", "/../x")).toBe("/../x");
  });
});

describe("local paths", () => {
  it("resolves against the local cwd and expands ~", () => {
    expect(resolveLocal("/tmp/w", "a")).toBe(path.resolve("/tmp/w/a"));
    expect(resolveLocal("/tmp/w", "~/x")).toBe(path.resolve(process.env.HOME ?? "/tmp/w", "x"));
  });

  it("isInside keeps targets inside the destination", () => {
    expect(isInside("/d", "/d/a/b")).toBe(true);
    expect(isInside("/d", "/d")).toBe(true);
    expect(isInside("/d", "/d/../e")).toBe(false);
    expect(isInside("/d", "/dx")).toBe(false);
    expect(isInside("/d", "/etc/passwd")).toBe(false);
  });
});

describe("parseHostPort", () => {
  it("reads host, host:port and [v6]:port", () => {
    expect(parseHostPort("127.0.0.1", 2121)).toEqual({ host: "127.0.0.1", port: 2121 });
    expect(parseHostPort("localhost:9000", 2121)).toEqual({ host: "localhost", port: 9000 });
    expect(parseHostPort("[::1]:9", 2121)).toEqual({ host: "::1", port: 9 });
    expect(parseHostPort("[::1]", 2121)).toEqual({ host: "::1", port: 2121 });
  });

  it("rejects bad ports with EUSAGE", () => {
    for (const bad of ["h:0", "h:70000", "h:x", ":21"]) {
      expect(() => parseHostPort(bad, 2121)).toThrow(expect.objectContaining({ code: "EUSAGE" }));
    }
  });
});

describe("parseTarget", () => {
  it("splits user@host:port, the user being what comes before the last @", () => {
    expect(parseTarget("alice@example.org:2222", 2121)).toEqual({
      user: "alice",
      host: "example.org",
      port: 2222,
    });
    expect(parseTarget("alice@[::1]", 2121)).toEqual({ user: "alice", host: "::1", port: 2121 });
    expect(parseTarget("host", 2121)).toEqual({ user: undefined, host: "host", port: 2121 });
    expect(() => parseTarget("@host", 2121)).toThrow(expect.objectContaining({ code: "EUSAGE" }));
  });
});
