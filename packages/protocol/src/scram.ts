import { createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual } from "node:crypto";
import { promisify } from "node:util";
import { FerryError } from "./errors.js";

/**
 * SCRAM-SHA-256 (RFC 5802 with RFC 7677's hash), as ferry carries it in `auth` frames (PROTOCOL.md
 * §3). Pure: no sockets. The server keeps only a {@link ScramVerifier} (salt, iterations, StoredKey,
 * ServerKey), which logs nobody in; the client proves it knows the password and checks that the
 * server knows the verifier (mutual proof). With TLS the exchange is bound to the channel
 * (`tls-exporter`, RFC 9266), so a man in the middle cannot relay it to another connection.
 *
 * No SASLprep: user names are restricted to {@link USER_NAME_PATTERN} (nothing to prepare), and a
 * password is NFKC-normalised and may not hold control characters. For printable ASCII this is
 * exactly what SASLprep does; beyond ASCII it is its core step (NFKC) without the mapping tables.
 */

export const SCRAM_MECHANISM = "scram-sha-256";
/** RFC 7677's floor: a verifier or a server asking for fewer iterations is refused. */
export const SCRAM_MIN_ITERATIONS = 4096;
/** For new verifiers: about 0.15 s of PBKDF2 per login on a 2-core VM (OWASP asks 600,000). */
export const SCRAM_DEFAULT_ITERATIONS = 200_000;
/** The most a client will work for a server's asking (a hostile server could ask for 2^31). */
export const SCRAM_MAX_ITERATIONS = 10_000_000;
/** Longest SCRAM message either side accepts; real ones are under 200 characters. */
export const SCRAM_MAX_MESSAGE_CHARS = 1024;
/** User names: ASCII letters, digits, `.`, `_`, `-`; up to 64; no `,` `=` `@` to escape or split. */
export const USER_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const MAX_PASSWORD_CHARS = 1024;
/** RFC 9266: the exporter label and length of the `tls-exporter` channel binding. */
export const TLS_EXPORTER_LABEL = "EXPORTER-Channel-Binding";
export const TLS_EXPORTER_BYTES = 32;

const SALT_BYTES = 16;
const NONCE_BYTES = 18;
const KEY_BYTES = 32;
const pbkdf2Async = promisify(pbkdf2);

/** The channel a login is bound to; null without TLS (gs2 header `n,,`). */
export interface ChannelBinding {
  readonly type: "tls-exporter";
  readonly data: Buffer;
}

/** What the server stores for a user: none of it logs anyone in. */
export interface ScramVerifier {
  readonly iterations: number;
  readonly salt: Buffer;
  readonly storedKey: Buffer;
  readonly serverKey: Buffer;
}

/**
 * The `tls-exporter` binding of a TLS 1.3 socket (anything with Node's `exportKeyingMaterial`), or
 * null for a plain one. Both ends of one TLS connection compute the same 32 bytes; two connections
 * (the two legs of a relay) never do.
 */
export function channelBindingOf(socket: object): ChannelBinding | null {
  const tlsLike = socket as { exportKeyingMaterial?: (n: number, label: string, ctx: Buffer) => Buffer };
  if (typeof tlsLike.exportKeyingMaterial !== "function") return null;
  const data = tlsLike.exportKeyingMaterial(TLS_EXPORTER_BYTES, TLS_EXPORTER_LABEL, Buffer.alloc(0));
  return { type: "tls-exporter", data };
}

function authError(message: string): FerryError {
  return new FerryError("EAUTH", message);
}

function malformed(what: string): FerryError {
  return new FerryError("EPROTO", `malformed SCRAM message: ${what}`);
}

export function isValidUserName(name: string): boolean {
  return USER_NAME_PATTERN.test(name);
}

/** A password as it is hashed: NFKC, 1 to 1024 characters, no control characters. */
export function normalizePassword(password: string): string {
  const p = password.normalize("NFKC");
  if (p.length === 0) throw new FerryError("EAUTH", "the password is empty");
  if (p.length > MAX_PASSWORD_CHARS)
    throw new FerryError("EAUTH", `the password is over ${MAX_PASSWORD_CHARS} characters`);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
  if (/[\u0000-\u001f\u007f-\u009f]/.test(p))
    throw new FerryError("EAUTH", "the password holds a control character");
  return p;
}

const hmac = (key: Buffer, text: string) => createHmac("sha256", key).update(text).digest();
const sha256 = (data: Buffer) => createHash("sha256").update(data).digest();

function xor(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.allocUnsafe(a.length);
  for (let i = 0; i < a.length; i++) out[i] = (a[i] as number) ^ ((b[i] as number) ?? 0);
  return out;
}

/** Hi(password, salt, i) of RFC 5802: PBKDF2-HMAC-SHA-256, on the thread pool. */
export function saltPassword(password: string, salt: Buffer, iterations: number): Promise<Buffer> {
  return pbkdf2Async(normalizePassword(password), salt, iterations, KEY_BYTES, "sha256");
}

function keysOf(salted: Buffer): { clientKey: Buffer; storedKey: Buffer; serverKey: Buffer } {
  const clientKey = hmac(salted, "Client Key");
  return { clientKey, storedKey: sha256(clientKey), serverKey: hmac(salted, "Server Key") };
}

/** A new verifier for `password` with a fresh random salt. */
export async function makeVerifier(
  password: string,
  iterations = SCRAM_DEFAULT_ITERATIONS,
  salt: Buffer = randomBytes(SALT_BYTES),
): Promise<ScramVerifier> {
  if (!Number.isSafeInteger(iterations) || iterations < SCRAM_MIN_ITERATIONS) {
    throw new FerryError("EAUTH", `iterations must be an integer of at least ${SCRAM_MIN_ITERATIONS}`);
  }
  const { storedKey, serverKey } = keysOf(await saltPassword(password, salt, iterations));
  return { iterations, salt, storedKey, serverKey };
}

/** `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>` (base64), as PostgreSQL writes it. */
export function formatVerifier(v: ScramVerifier): string {
  const b = (x: Buffer) => x.toString("base64");
  return `SCRAM-SHA-256$${v.iterations}:${b(v.salt)}$${b(v.storedKey)}:${b(v.serverKey)}`;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function base64(text: string, what: string): Buffer {
  if (!BASE64.test(text)) throw malformed(`${what} is not base64`);
  return Buffer.from(text, "base64");
}

/** Reads {@link formatVerifier}'s form; throws (EPROTO) on anything else. */
export function parseVerifier(text: string): ScramVerifier {
  const m = /^SCRAM-SHA-256\$(\d{1,10}):([^$:]+)\$([^$:]+):([^$:]+)$/.exec(text);
  if (!m) throw malformed("a verifier is SCRAM-SHA-256$ITERATIONS:SALT$STOREDKEY:SERVERKEY");
  const iterations = Number(m[1]);
  if (iterations < SCRAM_MIN_ITERATIONS) throw malformed(`iterations under ${SCRAM_MIN_ITERATIONS}`);
  const salt = base64(m[2] as string, "the salt");
  const storedKey = base64(m[3] as string, "StoredKey");
  const serverKey = base64(m[4] as string, "ServerKey");
  if (salt.length === 0) throw malformed("the salt is empty");
  if (storedKey.length !== KEY_BYTES || serverKey.length !== KEY_BYTES)
    throw malformed("a key is not 32 bytes");
  return { iterations, salt, storedKey, serverKey };
}

/** A nonce: base64 of 18 random bytes (24 printable characters, never a comma). */
export function randomNonce(): string {
  return randomBytes(NONCE_BYTES).toString("base64");
}

const NONCE = /^[\x21-\x2b\x2d-\x7e]{8,256}$/;

/** `a=1,b=2` as attributes in order; every attribute is one letter, `=`, and a value. */
function attributes(message: string): [string, string][] {
  if (message.length > SCRAM_MAX_MESSAGE_CHARS) throw malformed(`over ${SCRAM_MAX_MESSAGE_CHARS} characters`);
  return message.split(",").map((part) => {
    if (!/^[A-Za-z]=/.test(part)) throw malformed(`attribute ${JSON.stringify(part.slice(0, 20))}`);
    return [part[0] as string, part.slice(2)];
  });
}

function expectAttr(attrs: [string, string][], index: number, key: string, what: string): string {
  const a = attrs[index];
  if (!a || a[0] !== key) throw malformed(`${what} (${key}=) expected`);
  return a[1];
}

/** The gs2 header a client sends for a binding: `p=tls-exporter,,` with one, `n,,` without. */
function gs2HeaderFor(binding: ChannelBinding | null): string {
  return binding ? `p=${binding.type},,` : "n,,";
}

/** The `c=` value: base64 of the gs2 header and the binding data. */
function channelField(gs2Header: string, binding: ChannelBinding | null): string {
  const data = binding ? binding.data : Buffer.alloc(0);
  return Buffer.concat([Buffer.from(gs2Header), data]).toString("base64");
}

// ---- client ----

/**
 * The client's side of one login. `first` → the server's reply goes to {@link final} (PBKDF2 runs
 * here, on the thread pool) → the server's last message to {@link verifyServer}, which throws unless
 * the server proved it holds this password's verifier.
 */
export class ScramClient {
  readonly first: string;
  private readonly bare: string;
  private readonly gs2Header: string;
  private expectedSignature: Buffer | null = null;

  constructor(
    user: string,
    private readonly password: string,
    private readonly binding: ChannelBinding | null,
    private readonly nonce: string = randomNonce(),
  ) {
    if (!isValidUserName(user)) {
      throw new FerryError(
        "EAUTH",
        `user name ${JSON.stringify(user)} is not allowed: use letters, digits, . _ - (up to 64)`,
      );
    }
    normalizePassword(password);
    this.gs2Header = gs2HeaderFor(binding);
    this.bare = `n=${user},r=${nonce}`;
    this.first = this.gs2Header + this.bare;
  }

  /** The client-final message for the server-first message `serverFirst`. */
  async final(serverFirst: string): Promise<string> {
    const attrs = attributes(serverFirst);
    if (attrs[0]?.[0] === "m") throw malformed("a mandatory extension the client does not know");
    const nonce = expectAttr(attrs, 0, "r", "the nonce");
    const salt = base64(expectAttr(attrs, 1, "s", "the salt"), "the salt");
    const iterationsText = expectAttr(attrs, 2, "i", "the iteration count");
    if (!nonce.startsWith(this.nonce) || nonce.length === this.nonce.length || !NONCE.test(nonce)) {
      throw authError("the server's nonce does not extend ours");
    }
    const iterations = /^\d{1,10}$/.test(iterationsText) ? Number(iterationsText) : Number.NaN;
    if (!(iterations >= SCRAM_MIN_ITERATIONS && iterations <= SCRAM_MAX_ITERATIONS)) {
      throw authError(
        `the server asks for ${iterationsText} iterations; ${SCRAM_MIN_ITERATIONS} to ${SCRAM_MAX_ITERATIONS} are accepted`,
      );
    }
    if (salt.length === 0) throw malformed("the salt is empty");
    const salted = await saltPassword(this.password, salt, iterations);
    const { clientKey, storedKey, serverKey } = keysOf(salted);
    const withoutProof = `c=${channelField(this.gs2Header, this.binding)},r=${nonce}`;
    const authMessage = `${this.bare},${serverFirst},${withoutProof}`;
    const proof = xor(clientKey, hmac(storedKey, authMessage));
    this.expectedSignature = hmac(serverKey, authMessage);
    return `${withoutProof},p=${proof.toString("base64")}`;
  }

  /** Checks the server-final message; throws EAUTH when the server did not prove it knows the verifier. */
  verifyServer(serverFinal: string): void {
    const expected = this.expectedSignature;
    if (!expected) throw authError("the server finished the login before it began");
    const attrs = attributes(serverFinal);
    if (attrs[0]?.[0] === "e") throw authError(`the server refused the login: ${attrs[0][1]}`);
    const signature = base64(expectAttr(attrs, 0, "v", "the server signature"), "the server signature");
    if (signature.length !== expected.length || !timingSafeEqual(signature, expected)) {
      throw authError("the server could not prove it knows the password (is something in between?)");
    }
  }
}

// ---- server ----

/** A parsed client-first message. `user` may name nobody: the server then answers with a decoy. */
export interface ClientFirst {
  readonly user: string;
  readonly nonce: string;
  readonly bare: string;
  readonly gs2Header: string;
}

/**
 * Reads a client-first message on a connection with channel binding `binding`. Refused: authzid, a
 * binding the connection cannot give, and a client that could bind on a TLS connection but did not
 * (`n` or `y` with TLS: a downgrade, or a client that would be relayable). A user name outside
 * {@link USER_NAME_PATTERN} is returned as is (it matches no account).
 */
export function parseClientFirst(message: string, binding: ChannelBinding | null): ClientFirst {
  const m = /^(n|y|p=[A-Za-z0-9.-]+),([^,]*),(.*)$/s.exec(message);
  if (!m) throw malformed("a client-first message starts with a gs2 header (n,, y,, or p=NAME,,)");
  const flag = m[1] as string;
  if (m[2] !== "") throw authError("an authorization identity (a=) is not supported");
  if (flag.startsWith("p=")) {
    if (flag !== "p=tls-exporter") throw authError(`channel binding ${flag.slice(2)} is not supported`);
    if (!binding) throw authError("channel binding asked for on a connection without TLS");
  } else if (binding) {
    throw authError("this connection is TLS: the login must be bound to it (p=tls-exporter)");
  }
  const bare = m[3] as string;
  const attrs = attributes(bare);
  if (attrs[0]?.[0] === "m") throw malformed("a mandatory extension the server does not know");
  const user = expectAttr(attrs, 0, "n", "the user name");
  const nonce = expectAttr(attrs, 1, "r", "the nonce");
  if (!NONCE.test(nonce)) throw malformed("the nonce must be 8 to 256 printable characters without ,");
  return { user, nonce, bare, gs2Header: `${flag},,` };
}

/** The server-first message: the client's nonce extended with ours, the salt, the iterations. */
export function serverFirstMessage(
  first: ClientFirst,
  verifier: Pick<ScramVerifier, "salt" | "iterations">,
  serverNonce: string = randomNonce(),
): string {
  return `r=${first.nonce}${serverNonce},s=${verifier.salt.toString("base64")},i=${verifier.iterations}`;
}

export type FinalCheck = { ok: true; serverFinal: string } | { ok: false; reason: string };

/**
 * Checks a client-final message against the exchange so far. The proof is checked with the same
 * work whether or not the binding and nonce are right, so a failure's timing says nothing of why.
 */
export function checkClientFinal(
  first: ClientFirst,
  serverFirst: string,
  clientFinal: string,
  verifier: ScramVerifier,
  binding: ChannelBinding | null,
): FinalCheck {
  const attrs = attributes(clientFinal);
  const channel = expectAttr(attrs, 0, "c", "the channel binding");
  const nonce = expectAttr(attrs, 1, "r", "the nonce");
  const last = attrs[attrs.length - 1];
  if (last?.[0] !== "p" || attrs.length < 3) throw malformed("the proof (p=) must come last");
  const proof = base64(last[1], "the proof");
  const withoutProof = clientFinal.slice(0, clientFinal.length - last[1].length - 3);
  const authMessage = `${first.bare},${serverFirst},${withoutProof}`;
  const clientKey = xor(proof, hmac(verifier.storedKey, authMessage));
  const proofOk =
    proof.length === KEY_BYTES &&
    verifier.storedKey.length === KEY_BYTES &&
    timingSafeEqual(sha256(clientKey), verifier.storedKey);
  const expectedNonce = /^r=([^,]*)/.exec(serverFirst)?.[1];
  if (channel !== channelField(first.gs2Header, first.gs2Header.startsWith("p=") ? binding : null)) {
    return { ok: false, reason: "the channel binding does not match this connection (a relayed login?)" };
  }
  if (nonce !== expectedNonce) return { ok: false, reason: "the nonce does not match" };
  if (!proofOk) return { ok: false, reason: "wrong proof" };
  return { ok: true, serverFinal: `v=${hmac(verifier.serverKey, authMessage).toString("base64")}` };
}
