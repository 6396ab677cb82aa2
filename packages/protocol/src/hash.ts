import { createHash, createHmac, type Hash, timingSafeEqual } from "node:crypto";
import type { HashAlgorithm } from "./messages.js";

/** A running digest that can be read midway (`copy()`), which resume needs for a prefix md5. */
export function createDigest(alg: HashAlgorithm = "md5"): Hash {
  return createHash(alg);
}

/** The answer to an auth challenge: hex HMAC-SHA256 keyed by the shared secret over the challenge bytes. */
export function authAnswer(secret: string, challengeHex: string): string {
  return createHmac("sha256", secret).update(Buffer.from(challengeHex, "hex")).digest("hex");
}

const HEX_BYTES = /^(?:[0-9a-fA-F]{2})+$/;

/**
 * Compares two hex strings in constant time (for their length). Anything that is not whole hex bytes
 * is unequal to everything: Buffer.from(_, "hex") stops at the first bad digit, which would make
 * "abzz" equal "ab".
 */
export function safeEqualHex(a: string, b: string): boolean {
  if (a.length !== b.length || !HEX_BYTES.test(a) || !HEX_BYTES.test(b)) return false;
  const x = Buffer.from(a, "hex");
  const y = Buffer.from(b, "hex");
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}
