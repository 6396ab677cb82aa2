import { createHash, createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { authAnswer, createDigest, safeEqualHex } from "./hash.js";

describe("authAnswer", () => {
  it("is hex HMAC-SHA256 keyed by the secret over the challenge bytes", () => {
    const challenge = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    const expected = createHmac("sha256", Buffer.from("s3cret", "utf8"))
      .update(Buffer.from(challenge, "hex"))
      .digest("hex");
    expect(authAnswer("s3cret", challenge)).toBe(expected);
    expect(authAnswer("s3cret", challenge)).toMatch(/^[0-9a-f]{64}$/);
  });

  it("matches RFC 4231 test case 2", () => {
    // key "Jefe", data "what do ya want for nothing?"
    const data = Buffer.from("what do ya want for nothing?").toString("hex");
    expect(authAnswer("Jefe", data)).toBe("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  });

  it("keys with the secret's UTF-8 bytes", () => {
    const challenge = "ab".repeat(32);
    const expected = createHmac("sha256", Buffer.from("pässwörd", "utf8"))
      .update(Buffer.from(challenge, "hex"))
      .digest("hex");
    expect(authAnswer("pässwörd", challenge)).toBe(expected);
    expect(authAnswer("other", challenge)).not.toBe(expected);
  });
});

describe("safeEqualHex", () => {
  const a = "9e107d9d372bb6826bd81d3542a419d6";

  it("is true only for the same bytes", () => {
    expect(safeEqualHex(a, a)).toBe(true);
    expect(safeEqualHex(a, a.toUpperCase())).toBe(true); // same bytes
    expect(safeEqualHex(a, `${a.slice(0, 31)}7`)).toBe(false);
    expect(safeEqualHex(a, a.slice(0, 30))).toBe(false);
  });

  it("is false for empty, odd-length or non-hex input, even when the valid prefixes agree", () => {
    expect(safeEqualHex("", "")).toBe(false);
    expect(safeEqualHex("abc", "abc")).toBe(false);
    expect(safeEqualHex("abzz", "abzz")).toBe(false);
    expect(safeEqualHex("abzz", "ab00")).toBe(false);
    expect(safeEqualHex("ab", "abzz")).toBe(false);
    expect(safeEqualHex(`${a.slice(0, 30)}xx`, `${a.slice(0, 30)}yy`)).toBe(false);
  });
});

describe("createDigest", () => {
  it("defaults to md5 and can be read midway with copy()", () => {
    const digest = createDigest();
    digest.update("hel");
    expect(digest.copy().digest("hex")).toBe(createHash("md5").update("hel").digest("hex"));
    digest.update("lo");
    expect(digest.digest("hex")).toBe("5d41402abc4b2a76b9719d911017c592");
  });
});
