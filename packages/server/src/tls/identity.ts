import { randomBytes, X509Certificate } from "node:crypto";
import { mkdir, open, readFile, realpath, rename, rm, writeFile } from "node:fs/promises";
import { homedir, hostname } from "node:os";
import path from "node:path";
import { createSecureContext } from "node:tls";
import { certificateFingerprint, FerryError } from "@ferry/protocol";
import type { X509CertificateCreateSelfSignedParams } from "@peculiar/x509";
import { errnoOf } from "../fs-errors.js";
import type { TlsServerOptions } from "../options.js";

/** What ferryd presents in the TLS handshake. */
export interface TlsIdentity {
  /** PEM: the certificate, then any intermediates. */
  readonly cert: string;
  /** PEM private key. */
  readonly key: string;
  /** `SHA256:...` of the (first) certificate. */
  readonly fingerprint: string;
  /** The certificate's file; null when it was given as text. */
  readonly certFile: string | null;
  /** True when this start created it. */
  readonly created: boolean;
}

/** The folder below the state directory that holds the generated certificate and key. */
export const TLS_STATE_SUBDIR = "tls";
const CERT_FILE = "cert.pem";
const KEY_FILE = "key.pem";

/** `$XDG_STATE_HOME/ferryd`, or `~/.local/state/ferryd` (the XDG default). */
export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_STATE_HOME && path.isAbsolute(env.XDG_STATE_HOME) ? env.XDG_STATE_HOME : undefined;
  return path.join(base ?? path.join(homedir(), ".local", "state"), "ferryd");
}

/**
 * The self-signed identity in `stateDir`, created on first use. The pair is written into a fresh
 * hidden folder (key 0600) that is then renamed to `tls/` in one step, so a reader sees both files or
 * neither, and two ferryd starting at once on one state directory end up with the same pair (the
 * loser of the rename loads the winner's). `root` (a real path) is the served root: the state
 * directory must not be inside it, or clients could download the private key.
 */
export async function loadOrCreateIdentity(stateDir: string, root: string | null): Promise<TlsIdentity> {
  const abs = path.resolve(stateDir);
  try {
    await mkdir(abs, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw setupError(`cannot create the state directory ${abs}: ${(err as Error).message}`, err);
  }
  const real = await realpath(abs);
  assertOutsideRoot(real, root, "the state directory (--state-dir)");
  const dir = path.join(real, TLS_STATE_SUBDIR);
  const existing = await readPair(dir);
  if (existing) return existing;

  const fresh = await generateSelfSigned();
  const tmp = path.join(real, `.tls-${randomBytes(6).toString("hex")}`);
  try {
    await mkdir(tmp, { mode: 0o700 });
    await writeFile(path.join(tmp, KEY_FILE), fresh.key, { mode: 0o600, flush: true });
    await writeFile(path.join(tmp, CERT_FILE), fresh.cert, { mode: 0o644, flush: true });
    await rename(tmp, dir);
    await syncDir(real);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    // Another ferryd created it first (rename onto a non-empty folder fails): use theirs.
    if (errnoOf(err) === "ENOTEMPTY" || errnoOf(err) === "EEXIST") {
      const theirs = await readPair(dir);
      if (theirs) return theirs;
    }
    throw setupError(`cannot write the TLS certificate to ${dir}: ${(err as Error).message}`, err);
  }
  return checkedPair(fresh.cert, fresh.key, path.join(dir, CERT_FILE), true);
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * The identity `options` name (see TlsServerOptions). `root` is the real path of the served root, which
 * must not hold the key; null when there is none to check (`ferryd fingerprint` without --root).
 */
export async function resolveIdentity(options: TlsServerOptions, root: string | null): Promise<TlsIdentity> {
  const { cert, key, certFile, keyFile } = options;
  const pem = cert !== undefined || key !== undefined;
  const files = certFile !== undefined || keyFile !== undefined;
  if (pem && files) throw setupError("give the TLS certificate and key as text or as files, not both");
  if (pem) {
    if (cert === undefined || key === undefined)
      throw setupError("a TLS certificate needs its key, and a key its certificate");
    return checkedPair(cert, key, null, false);
  }
  if (files) {
    if (certFile === undefined || keyFile === undefined)
      throw setupError("--tls-cert and --tls-key go together");
    return loadIdentityFiles(certFile, keyFile, root);
  }
  return loadOrCreateIdentity(options.stateDir ?? defaultStateDir(), root);
}

/** A certificate and key given as files (`--tls-cert/--tls-key`), checked to belong together. */
export async function loadIdentityFiles(
  certFile: string,
  keyFile: string,
  root: string | null,
): Promise<TlsIdentity> {
  const keyReal = await realpath(keyFile).catch((err: unknown) => {
    throw setupError(`cannot read --tls-key ${keyFile}: ${(err as Error).message}`, err);
  });
  assertOutsideRoot(keyReal, root, "--tls-key");
  const [cert, key] = await Promise.all([
    readFile(certFile, "utf8").catch((err: unknown) => {
      throw setupError(`cannot read --tls-cert ${certFile}: ${(err as Error).message}`, err);
    }),
    readFile(keyReal, "utf8"),
  ]);
  return checkedPair(cert, key, certFile, false);
}

/** The fingerprint of the first certificate of a PEM text. */
export function fingerprintOfPem(pem: string): string {
  try {
    return certificateFingerprint(new X509Certificate(pem).raw);
  } catch (err) {
    throw setupError(`not a PEM certificate: ${(err as Error).message}`, err);
  }
}

async function readPair(dir: string): Promise<TlsIdentity | null> {
  const certFile = path.join(dir, CERT_FILE);
  const read = (file: string) =>
    readFile(file, "utf8").catch((err: unknown) => {
      if (errnoOf(err) === "ENOENT") return null;
      throw setupError(`cannot read ${file}: ${(err as Error).message}`, err);
    });
  const [cert, key] = await Promise.all([read(certFile), read(path.join(dir, KEY_FILE))]);
  if (cert === null && key === null) return null;
  if (cert === null || key === null) {
    throw setupError(
      `${dir} holds only one of ${CERT_FILE} and ${KEY_FILE}; remove the folder to make a new certificate (clients will see a new fingerprint)`,
    );
  }
  return checkedPair(cert, key, certFile, false);
}

function checkedPair(cert: string, key: string, certFile: string | null, created: boolean): TlsIdentity {
  const fingerprint = fingerprintOfPem(cert);
  try {
    createSecureContext({ cert, key });
  } catch (err) {
    const which = certFile ?? "the given certificate";
    throw setupError(`the TLS key does not fit ${which}: ${(err as Error).message}`, err);
  }
  return { cert, key, fingerprint, certFile, created };
}

function assertOutsideRoot(real: string, root: string | null, what: string): void {
  if (root === null) return;
  if (real === root || real.startsWith(root.endsWith(path.sep) ? root : root + path.sep)) {
    throw setupError(
      `refusing to start: ${what} ${real} is inside the served root ${root}, so clients could download the private key`,
    );
  }
}

function setupError(message: string, cause?: unknown): FerryError {
  return new FerryError("ETLS", message, { setup: true }, { cause });
}

/** Certificates made here never expire (RFC 5280 §4.1.2.5: 99991231235959Z means no expiry date). */
const NO_EXPIRY = new Date("9999-12-31T23:59:59Z");

/**
 * A fresh ECDSA P-256 key and a self-signed certificate for it, made with @peculiar/x509 on Node's
 * WebCrypto. Clients pin the certificate's fingerprint rather than checking names, but it names
 * localhost, this host and the loopback addresses so a client may also use it as its own CA file.
 */
async function generateSelfSigned(): Promise<{ cert: string; key: string }> {
  // tsyringe (under @peculiar/x509) needs the Reflect metadata polyfill; loaded only on this rare
  // path so that ordinary starts change no globals.
  await import("reflect-metadata");
  const x509 = await import("@peculiar/x509");
  const { webcrypto } = await import("node:crypto");
  // Node's webcrypto is the WebCrypto the library expects; only the DOM type names differ.
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
  const alg = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
  const pair = await webcrypto.subtle.generateKey(alg, true, ["sign", "verify"]);
  const keys = pair as unknown as X509CertificateCreateSelfSignedParams["keys"];
  const serial = randomBytes(16);
  serial[0] = (serial[0] ?? 0) & 0x7f; // a positive INTEGER (RFC 5280 §4.1.2.2)
  const names = [...new Set(["localhost", hostname()].filter((n) => /^[a-zA-Z0-9.-]+$/.test(n)))];
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial.toString("hex"),
    name: "CN=ferryd",
    notBefore: new Date(Date.now() - 24 * 3600_000),
    notAfter: NO_EXPIRY,
    signingAlgorithm: alg,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        ...names.map((value) => ({ type: "dns" as const, value })),
        { type: "ip", value: "127.0.0.1" },
        { type: "ip", value: "::1" },
      ]),
    ],
  });
  const pkcs8 = await webcrypto.subtle.exportKey("pkcs8", pair.privateKey);
  return { cert: cert.toString("pem"), key: x509.PemConverter.encode(pkcs8, "PRIVATE KEY") };
}
