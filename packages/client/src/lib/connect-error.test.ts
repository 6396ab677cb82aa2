import { describe, expect, it } from "vitest";
import { connectError as refused } from "./connect-error.js";

/** What Node's net.connect reports for a name getaddrinfo could not resolve. */
function lookupFailure(code: string, host: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`getaddrinfo ${code} ${host}`), {
    code,
    syscall: "getaddrinfo",
    hostname: host,
  });
}

describe("connect errors", () => {
  it("a name that does not resolve is ENOTFOUND and says so, not ECONNREFUSED (ENOTFOUND)", () => {
    const err = refused("fileserver.example", 2121, lookupFailure("ENOTFOUND", "fileserver.example"));
    expect(err.code).toBe("ENOTFOUND");
    expect(err.message).toBe(
      "the host name fileserver.example did not resolve; check its spelling, or give an IP address",
    );
    expect(err.cause).toBeInstanceOf(Error);
    expect(refused("h", 1, lookupFailure("EAI_AGAIN", "h")).code).toBe("ENOTFOUND");
  });

  it("a refused port stays ECONNREFUSED", () => {
    const err = refused(
      "127.0.0.1",
      1,
      Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }),
    );
    expect(err.code).toBe("ECONNREFUSED");
  });
});
