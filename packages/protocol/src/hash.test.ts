import { createHash, createHmac, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createRunningHash } from "./hash/running-hash.js";
import { authAnswer, createDigest, createDigestNow, prepareDigests, safeEqualHex } from "./hash.js";
import { HASH_ALGORITHMS, HASH_HEX_DIGITS, type HashAlgorithm } from "./messages.js";

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

const text = (s: string) => Buffer.from(s);

describe("createDigest", () => {
  it("defaults to md5 and can be read midway with peek()", async () => {
    const digest = await createDigest();
    expect(digest.alg).toBe("md5");
    digest.update(text("hel"));
    expect(digest.peek()).toBe(createHash("md5").update("hel").digest("hex"));
    digest.update(text("lo"));
    expect(digest.digest()).toBe("5d41402abc4b2a76b9719d911017c592");
  });

  // Vectors from python3 hashlib.sha256 and the xxHash project's XXH3_128bits sanity vectors (seed 0).
  const vectors: Array<[HashAlgorithm, string, string]> = [
    ["sha256", "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"],
    ["sha256", "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"],
    ["xxh128", "", "99aa06d3014798d86001c324468d497f"],
    ["xxh128", "abc", "06b05ab6733a618578af5f94892f3950"],
  ];
  for (const [alg, input, hex] of vectors) {
    it(`${alg} of ${JSON.stringify(input)} is the known vector`, async () => {
      const digest = await createDigest(alg);
      expect(digest.update(text(input)).digest()).toBe(hex);
      expect(hex).toHaveLength(HASH_HEX_DIGITS[alg]);
    });
  }

  for (const alg of HASH_ALGORITHMS) {
    it(`${alg}: peek() gives the prefix's hash and leaves the running hash intact`, async () => {
      const a = randomBytes(70_000);
      const b = randomBytes(3_000);
      const running = await createDigest(alg);
      running.update(a);
      const prefix = running.peek();
      expect(running.peek()).toBe(prefix); // twice: peeking changes nothing
      running.update(b);
      expect(prefix).toBe((await createDigest(alg)).update(a).digest());
      expect(running.digest()).toBe((await createDigest(alg)).update(a).update(b).digest());
    });
  }

  it("xxh128: a spent hasher is reused clean, and createDigestNow has one at hand after prepareDigests", async () => {
    await prepareDigests(["xxh128"], 2);
    const first = createDigestNow("xxh128");
    const second = createDigestNow("xxh128");
    expect(first).not.toBeNull();
    expect(second).not.toBeNull();
    first?.update(text("noise")).digest(); // back to the pool, dirty
    const again = createDigestNow("xxh128");
    expect(again?.update(text("abc")).digest()).toBe("06b05ab6733a618578af5f94892f3950");
    expect(second?.update(text("")).digest()).toBe("99aa06d3014798d86001c324468d497f");
  });
});

describe("createRunningHash", () => {
  it("hashes xxh128 inline even when no hasher was idle, chunks given before it came included", async () => {
    const chunks = [randomBytes(10), randomBytes(100_000), randomBytes(1)];
    // Empty the pool so the running hash has to make its hasher.
    while (createDigestNow("xxh128")) {}
    const running = createRunningHash(1 << 30, 1, "xxh128");
    for (const chunk of chunks) {
      const reused = Buffer.from(chunk);
      if (!running.update(reused)) await running.whenWritable();
      reused.fill(0); // the caller may reuse its chunk
    }
    const expected = await createDigest("xxh128");
    for (const chunk of chunks) expected.update(chunk);
    expect(await running.digest()).toBe(expected.digest());
  });

  it("sha256 off thread matches inline", async () => {
    const bytes = randomBytes(3 * 1024 * 1024 + 5);
    const threaded = createRunningHash(bytes.length, 0, "sha256");
    if (!threaded.update(bytes)) await threaded.whenWritable();
    expect(await threaded.digest()).toBe(createHash("sha256").update(bytes).digest("hex"));
  });
});
