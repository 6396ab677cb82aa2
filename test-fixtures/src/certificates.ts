import { randomBytes, webcrypto } from "node:crypto";

/** A certificate and its key, as PEM. */
export interface TestCertificate {
  cert: string;
  key: string;
}

/** A CA for tests: its certificate (what a client trusts) and what it needs to issue more. */
export interface TestCa extends TestCertificate {
  issue(opts: { dns?: string[]; ips?: string[]; commonName?: string }): Promise<TestCertificate>;
}

const ALG = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };

async function x509() {
  // tsyringe (under @peculiar/x509) needs the Reflect metadata polyfill.
  await import("reflect-metadata");
  const lib = await import("@peculiar/x509");
  lib.cryptoProvider.set(webcrypto as unknown as Parameters<typeof lib.cryptoProvider.set>[0]);
  return lib;
}

function serial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return bytes.toString("hex");
}

/**
 * A fresh certificate authority (ECDSA P-256) that issues server certificates for the names and
 * addresses a test asks for: for the "CA-issued certificate" side of ferry's TLS (`--tls-cert`,
 * `--ca`, a name that does not match).
 */
export async function makeTestCa(name = "ferry test CA"): Promise<TestCa> {
  const lib = await x509();
  const pair = await webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"]);
  const keys = pair as unknown as Parameters<typeof lib.X509CertificateGenerator.createSelfSigned>[0]["keys"];
  const now = Date.now();
  const caCert = await lib.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${name}`,
    notBefore: new Date(now - 3600_000),
    notAfter: new Date(now + 30 * 24 * 3600_000),
    signingAlgorithm: ALG,
    keys,
    extensions: [
      new lib.BasicConstraintsExtension(true, undefined, true),
      new lib.KeyUsagesExtension(lib.KeyUsageFlags.keyCertSign | lib.KeyUsageFlags.cRLSign, true),
      await lib.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const pem = async (key: webcrypto.CryptoKey) =>
    lib.PemConverter.encode(await webcrypto.subtle.exportKey("pkcs8", key), "PRIVATE KEY");
  return {
    cert: caCert.toString("pem"),
    key: await pem(pair.privateKey),
    async issue(opts) {
      const leaf = await webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"]);
      const leafKeys = leaf as unknown as typeof keys;
      const names = [
        ...(opts.dns ?? []).map((value) => ({ type: "dns" as const, value })),
        ...(opts.ips ?? []).map((value) => ({ type: "ip" as const, value })),
      ];
      const cert = await lib.X509CertificateGenerator.create({
        serialNumber: serial(),
        subject: `CN=${opts.commonName ?? opts.dns?.[0] ?? opts.ips?.[0] ?? "server"}`,
        issuer: caCert.subject,
        notBefore: new Date(now - 3600_000),
        notAfter: new Date(now + 30 * 24 * 3600_000),
        signingAlgorithm: ALG,
        publicKey: leafKeys.publicKey,
        signingKey: keys.privateKey,
        extensions: [
          new lib.BasicConstraintsExtension(false, undefined, true),
          new lib.KeyUsagesExtension(lib.KeyUsageFlags.digitalSignature, true),
          new lib.ExtendedKeyUsageExtension([lib.ExtendedKeyUsage.serverAuth]),
          new lib.SubjectAlternativeNameExtension(names),
          await lib.AuthorityKeyIdentifierExtension.create(keys.publicKey),
        ],
      });
      return { cert: cert.toString("pem"), key: await pem(leaf.privateKey) };
    },
  };
}
