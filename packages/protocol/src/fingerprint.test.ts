import { createHash, X509Certificate } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  certificateFingerprint,
  fingerprintHex,
  formatFingerprint,
  normalizeFingerprint,
  parseFingerprint,
} from "./fingerprint.js";

// A self-signed P-256 certificate (CN=ferryd), for fixed expectations.
const PEM = `-----BEGIN CERTIFICATE-----
MIIBeDCCAR2gAwIBAgICAaswCgYIKoZIzj0EAwIwETEPMA0GA1UEAxMGZmVycnlk
MCAXDTI2MTIwMTE5MjIxNloYDzk5OTkxMjMxMjM1OTU5WjARMQ8wDQYDVQQDEwZm
ZXJyeWQwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAASswd6cE1ZkosroJ//XrZeK
oqZ4zV2n79rnHJnf0bDxP0d+9srTvMbu78dw5N3EsqwSCFKz8VTZkVnvy8SEzsVQ
o2MwYTAMBgNVHRMBAf8EAjAAMA4GA1UdDwEB/wQEAwIHgDATBgNVHSUEDDAKBggr
BgEFBQcDATAsBgNVHREEJTAjgglsb2NhbGhvc3SHBH8AAAGHEAAAAAAAAAAAAAAA
AAAAAAEwCgYIKoZIzj0EAwIDSQAwRgIhAPVi7ca9PEpKsWNZkumo1HfHc4EDzhHk
xLiWUzFmqHRpAiEAs9YaD4e5RgIjoAzkLJ1LQe/+yP/5BrUAUsooN/BsyRg=
-----END CERTIFICATE-----`;

describe("fingerprints", () => {
  const cert = new X509Certificate(PEM);
  const fp = certificateFingerprint(cert.raw);

  it("is SHA256: and unpadded base64 of the DER's SHA-256, and its hex is what openssl prints", () => {
    expect(fp).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(fp).toBe(`SHA256:${createHash("sha256").update(cert.raw).digest("base64").replace(/=$/, "")}`);
    // Node's fingerprint256 is openssl's format.
    expect(fingerprintHex(fp)).toBe(cert.fingerprint256);
    expect(fingerprintHex(fp)).toBe(
      "C0:AB:3B:FC:F0:F8:21:34:BD:7D:DB:D4:43:EE:B7:4A:44:A7:B2:D0:F6:3E:65:06:8B:D2:74:93:ED:7E:D6:2A",
    );
  });

  it("parses every accepted spelling to the same digest", () => {
    const hex = cert.fingerprint256;
    for (const text of [fp, `${fp}=`, ` ${fp} `, hex, hex.toLowerCase(), hex.replaceAll(":", "")]) {
      expect(normalizeFingerprint(text)).toBe(fp);
    }
    expect(formatFingerprint(parseFingerprint(fp) as Buffer)).toBe(fp);
  });

  it("rejects what is not a whole SHA-256 fingerprint", () => {
    for (const text of [
      "",
      "SHA256:",
      fp.slice(0, -1),
      `${fp}A`,
      `MD5:${fp.slice(7)}`,
      `sha256:${fp.slice(7)}`,
      cert.fingerprint256.slice(3),
      `${cert.fingerprint256}:00`,
      cert.fingerprint256.replace(":", "::"),
      "z".repeat(64),
    ]) {
      expect(parseFingerprint(text), text).toBeUndefined();
    }
  });
});
