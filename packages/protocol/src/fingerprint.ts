import { createHash } from "node:crypto";

/**
 * A server's identity as ferry shows and pins it: the SHA-256 of its DER-encoded certificate, written
 * as ssh writes key fingerprints, `SHA256:` + base64 without padding (43 characters). The same 32
 * bytes as colon-separated upper-case hex are what `openssl x509 -noout -fingerprint -sha256` prints.
 */
export const FINGERPRINT_PREFIX = "SHA256:";

/** The first byte of every TLS connection (a handshake record); a ferry frame never starts with it. */
export const TLS_HANDSHAKE_BYTE = 0x16;

/** `SHA256:...` of a DER certificate. */
export function certificateFingerprint(der: Uint8Array): string {
  return formatFingerprint(createHash("sha256").update(der).digest());
}

/** `SHA256:` + unpadded base64 of 32 digest bytes. */
export function formatFingerprint(digest: Uint8Array): string {
  return FINGERPRINT_PREFIX + Buffer.from(digest).toString("base64").replace(/=+$/, "");
}

/** `AB:CD:...`: the digest as openssl prints it. */
export function fingerprintHex(fingerprint: string): string {
  const digest = parseFingerprint(fingerprint);
  if (!digest) throw new TypeError(`not a fingerprint: ${fingerprint}`);
  return [...digest].map((b) => b.toString(16).padStart(2, "0").toUpperCase()).join(":");
}

/**
 * The 32 digest bytes of a fingerprint a person typed: `SHA256:` + base64 (padding optional), or 64 hex
 * digits with or without colons, any case. Undefined for anything else.
 */
export function parseFingerprint(text: string): Buffer | undefined {
  const t = text.trim();
  if (t.startsWith(FINGERPRINT_PREFIX)) {
    const b64 = t.slice(FINGERPRINT_PREFIX.length);
    if (!/^[A-Za-z0-9+/]{43}=?$/.test(b64)) return undefined;
    const digest = Buffer.from(b64, "base64");
    return digest.length === 32 ? digest : undefined;
  }
  const hex = t.replaceAll(":", "");
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) return undefined;
  if (t.includes(":") && !/^(?:[0-9a-fA-F]{2}:){31}[0-9a-fA-F]{2}$/.test(t)) return undefined;
  return Buffer.from(hex, "hex");
}

/** The canonical `SHA256:...` form of a fingerprint in any accepted spelling, or undefined. */
export function normalizeFingerprint(text: string): string | undefined {
  const digest = parseFingerprint(text);
  return digest ? formatFingerprint(digest) : undefined;
}
