import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { open, rename, unlink } from "node:fs/promises";
import path from "node:path";
import {
  FerryError,
  formatVerifier,
  isValidUserName,
  parseVerifier,
  type ScramVerifier,
} from "@ferry/protocol";
import { parseSize } from "../sizes.js";
import type { QuotaLimits } from "../storage/storage.js";

/** One account of the users file. */
export interface Account {
  readonly name: string;
  /** Salt, iterations, StoredKey, ServerKey: never the password, nothing that logs in. */
  readonly verifier: ScramVerifier;
  /** Absolute; a relative root in the file is read against the file's own directory. */
  readonly root: string;
  readonly readOnly: boolean;
  readonly quota: QuotaLimits | null;
}

export interface UsersFile {
  /** Keys the decoy salts of unknown user names; null in a hand-written file without one. */
  readonly decoyKey: Buffer | null;
  /** In file order; names are unique. */
  readonly users: readonly Account[];
}

export const USERS_FILE_VERSION = 1;
/** Refused past this, before parsing: a users file is a few hundred bytes per user. */
export const MAX_USERS_FILE_BYTES = 16 * 1024 * 1024;

function invalid(file: string, where: string, what: string): FerryError {
  return new FerryError("EINTERNAL", `users file ${file}: ${where}${where ? ": " : ""}${what}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function quotaOf(raw: unknown, fail: (what: string) => FerryError): QuotaLimits | null {
  if (raw === undefined) return null;
  if (!isObject(raw)) throw fail('"quota" must be an object with "bytes" and/or "files"');
  const limit = (key: "bytes" | "files"): number | undefined => {
    const v = raw[key];
    if (v === undefined) return undefined;
    const n = key === "bytes" && typeof v === "string" ? parseSize(v) : v;
    if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 0) {
      throw fail(`"quota.${key}" must be a whole number${key === "bytes" ? ' or a size like "10G"' : ""}`);
    }
    return n;
  };
  const bytes = limit("bytes");
  const files = limit("files");
  if (bytes === undefined && files === undefined) return null;
  return { ...(bytes !== undefined ? { bytes } : {}), ...(files !== undefined ? { files } : {}) };
}

/**
 * Reads a users file's text. `file` is its path (for messages, and the base of relative roots).
 * Every entry is checked; one bad entry refuses the whole file, with the entry and field named.
 */
export function parseUsersFile(text: string, file: string): UsersFile {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw invalid(file, "", `not JSON (${(err as Error).message})`);
  }
  if (!isObject(doc)) throw invalid(file, "", 'must be a JSON object with "users"');
  if (doc.version !== undefined && doc.version !== USERS_FILE_VERSION) {
    throw invalid(file, "", `version ${JSON.stringify(doc.version)} is not ${USERS_FILE_VERSION}`);
  }
  let decoyKey: Buffer | null = null;
  if (doc.decoyKey !== undefined) {
    if (typeof doc.decoyKey !== "string" || !/^[A-Za-z0-9+/]{16,}={0,2}$/.test(doc.decoyKey)) {
      throw invalid(file, "", '"decoyKey" must be base64 of at least 12 bytes');
    }
    decoyKey = Buffer.from(doc.decoyKey, "base64");
  }
  if (!Array.isArray(doc.users)) throw invalid(file, "", '"users" must be an array');
  const base = path.dirname(path.resolve(file));
  const seen = new Set<string>();
  const users = doc.users.map((entry: unknown, i: number): Account => {
    const label =
      isObject(entry) && typeof entry.name === "string"
        ? `user ${JSON.stringify(entry.name)}`
        : `users[${i}]`;
    const fail = (what: string) => invalid(file, label, what);
    if (!isObject(entry)) throw fail("must be an object");
    const { name, verifier, root, access } = entry;
    if (typeof name !== "string" || !isValidUserName(name)) {
      throw fail('"name" must be 1 to 64 of A-Z a-z 0-9 . _ - (starting with a letter or digit)');
    }
    if (seen.has(name)) throw fail("appears twice");
    seen.add(name);
    if (typeof verifier !== "string") throw fail('"verifier" must be a SCRAM-SHA-256 verifier string');
    let parsed: ScramVerifier;
    try {
      parsed = parseVerifier(verifier);
    } catch (err) {
      throw fail(`"verifier": ${(err as Error).message}`);
    }
    if (typeof root !== "string" || root === "" || root.includes("\0"))
      throw fail('"root" must be a directory path');
    if (access !== undefined && access !== "read-only" && access !== "read-write") {
      throw fail('"access" must be "read-only" or "read-write"');
    }
    return {
      name,
      verifier: parsed,
      root: path.resolve(base, root),
      readOnly: access === "read-only",
      quota: quotaOf(entry.quota, fail),
    };
  });
  return { decoyKey, users };
}

/** The file's text: one object per user, readable and diffable. */
export function formatUsersFile(f: UsersFile): string {
  const doc = {
    version: USERS_FILE_VERSION,
    ...(f.decoyKey ? { decoyKey: f.decoyKey.toString("base64") } : {}),
    users: f.users.map((u) => ({
      name: u.name,
      verifier: formatVerifier(u.verifier),
      root: u.root,
      access: u.readOnly ? "read-only" : "read-write",
      ...(u.quota ? { quota: u.quota } : {}),
    })),
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

export async function readUsersFile(file: string): Promise<UsersFile> {
  let text: string;
  try {
    const fh = await open(file, constants.O_RDONLY);
    try {
      const st = await fh.stat();
      if (st.size > MAX_USERS_FILE_BYTES) throw invalid(file, "", `over ${MAX_USERS_FILE_BYTES} bytes`);
      text = await fh.readFile("utf8");
    } finally {
      await fh.close();
    }
  } catch (err) {
    if (err instanceof FerryError) throw err;
    throw invalid(file, "", (err as Error).message);
  }
  return parseUsersFile(text, file);
}

/** A new users file's decoy key. */
export function newDecoyKey(): Buffer {
  return randomBytes(32);
}

/**
 * Replaces the users file in one step: the new text goes to a fresh file of mode 0600 beside it,
 * flushed, then renamed over the old, so a reader (a reloading ferryd) sees the old file or the
 * new one, never half of one, and the verifiers are never readable by others, even for a moment.
 */
export async function writeUsersFile(file: string, f: UsersFile): Promise<void> {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString("hex")}.tmp`);
  const fh = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  try {
    try {
      // The mode argument is cut by the umask, which cannot add bits: chmod makes it exactly 0600.
      await fh.chmod(0o600);
      await fh.writeFile(formatUsersFile(f));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(temp, file);
  } catch (err) {
    await unlink(temp).catch(() => {});
    throw err;
  }
  const dir = await open(path.dirname(file), constants.O_RDONLY | constants.O_DIRECTORY).catch(() => null);
  await dir?.sync().catch(() => {});
  await dir?.close();
}
