import { describe, expect, it } from "vitest";
import { codeOfErrno, ERROR_CODES, FerryError, isErrorCode, isFerryError, toFerryError } from "./errors.js";

describe("errors", () => {
  it("gives every code a default message", () => {
    for (const code of Object.keys(ERROR_CODES) as (keyof typeof ERROR_CODES)[]) {
      const err = new FerryError(code);
      expect(err.code).toBe(code);
      expect(err.message).toBe(ERROR_CODES[code]);
      expect(err.name).toBe("FerryError");
      expect(err).toBeInstanceOf(Error);
      expect(isFerryError(err)).toBe(true);
    }
  });

  it("includes the codes the spec names", () => {
    for (const code of [
      "EBADPATH",
      "ENOENT",
      "EEXIST",
      "EISDIR",
      "ENOTDIR",
      "ECHECKSUM",
      "ESIZE",
      "EPROTO",
    ]) {
      expect(isErrorCode(code)).toBe(true);
    }
    for (const code of ["EAUTH", "EBUSY", "ENOSPC", "ETOOBIG", "EINTERNAL", "ECONNLOST", "EVERSION"]) {
      expect(isErrorCode(code)).toBe(true);
    }
    expect(isErrorCode("toString")).toBe(false);
    expect(isErrorCode(1)).toBe(false);
  });

  it("keeps details", () => {
    expect(new FerryError("ESIZE", "m", { sent: 1 }).details).toEqual({ sent: 1 });
  });

  it("toFerryError keeps a FerryError and wraps anything else with the fallback code", () => {
    const err = new FerryError("ENOENT");
    expect(toFerryError(err)).toBe(err);
    expect(toFerryError(new Error("boom"))).toMatchObject({ code: "EINTERNAL", message: "boom" });
    expect(toFerryError("text", "EPROTO")).toMatchObject({ code: "EPROTO", message: "text" });
    expect(isFerryError(new Error("x"))).toBe(false);
  });

  it("maps file-system errnos to protocol codes, and nothing for the rest", () => {
    expect(codeOfErrno("ENOENT")).toBe("ENOENT");
    expect(codeOfErrno("EPERM")).toBe("EACCES");
    expect(codeOfErrno("EDQUOT")).toBe("ENOSPC");
    expect(codeOfErrno("EMFILE")).toBeUndefined();
    expect(codeOfErrno(undefined)).toBeUndefined();
  });
});
