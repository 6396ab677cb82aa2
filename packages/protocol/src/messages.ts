import { type ErrorCode, FerryError, isErrorCode, toFerryError } from "./errors.js";
import { MAX_NAME_BYTES, PROTOCOL_VERSION } from "./limits.js";
import { SCRAM_MAX_MESSAGE_CHARS, SCRAM_MECHANISM } from "./scram.js";
import {
  arrayOf,
  boolean,
  type Check,
  hex,
  integer,
  literal,
  md5Hex,
  object,
  oneOf,
  optional,
  path,
  size,
  string,
} from "./validate.js";

/**
 * Every message of a ferry session. Requests go client → server and carry `cmd`; replies go
 * server → client and carry `ok`; `data` and `end` frames flow both ways. See PROTOCOL.md.
 */

/** The hash algorithms this version knows (PROTOCOL.md §1.2); md5 is the default, and always offered. */
export const HASH_ALGORITHMS = ["md5", "sha256", "xxh128"] as const;
export type HashAlgorithm = (typeof HASH_ALGORITHMS)[number];

/** Lower-case hex digits of a hash of each algorithm. */
export const HASH_HEX_DIGITS: Readonly<Record<HashAlgorithm, number>> = { md5: 32, sha256: 64, xxh128: 32 };

export function isHashAlgorithm(value: unknown): value is HashAlgorithm {
  return typeof value === "string" && (HASH_ALGORITHMS as readonly string[]).includes(value);
}

/** The algorithm a message names; absent is md5. */
export function algOf(m: { alg?: HashAlgorithm | undefined }): HashAlgorithm {
  return m.alg ?? "md5";
}

/**
 * The value of a message's hash in its `alg`: `md5` for md5, `hash` for any other (§1.2). The two
 * names keep two contracts apart: whatever reads `md5` finds an md5 or nothing.
 */
export function hashOf(m: {
  alg?: HashAlgorithm | undefined;
  md5?: string | undefined;
  hash?: string | undefined;
}): string | undefined {
  return algOf(m) === "md5" ? m.md5 : m.hash;
}

/** Like {@link hashOf} for the prefix fields of a resume (`prefixMd5` / `prefixHash`). */
export function prefixHashOf(m: {
  alg?: HashAlgorithm | undefined;
  prefixMd5?: string | undefined;
  prefixHash?: string | undefined;
}): string | undefined {
  return algOf(m) === "md5" ? m.prefixMd5 : m.prefixHash;
}

/** The wire fields of a hash `hex` in `alg`: `{ md5 }` or `{ alg, hash }` (and `alg: "md5"` never needed). */
export function hashFields(
  alg: HashAlgorithm,
  hex: string,
): { md5: string; alg?: never; hash?: never } | { alg: HashAlgorithm; hash: string; md5?: never } {
  return alg === "md5" ? { md5: hex } : { alg, hash: hex };
}

/** Like {@link hashFields} for a resume prefix. */
export function prefixHashFields(
  alg: HashAlgorithm,
  hex: string,
): { prefixMd5: string } | { alg: HashAlgorithm; prefixHash: string } {
  return alg === "md5" ? { prefixMd5: hex } : { alg, prefixHash: hex };
}

/** A request id; every reply echoes the id of the request it answers. */
const id = integer(0, 2 ** 32 - 1);

/**
 * `alg`: a string it is, or EPROTO; a name this version does not know is EALG, not EPROTO, because a
 * newer peer's well-formed request should learn that the algorithm is missing (§1.2).
 */
const hashAlg: Check<HashAlgorithm> = (v, f) => {
  if (isHashAlgorithm(v)) return v;
  if (typeof v === "string") {
    throw new FerryError(
      "EALG",
      `hash algorithm ${quote(v)} is not offered by this side (${HASH_ALGORITHMS.join(", ")})`,
      { field: f, alg: v },
    );
  }
  throw new FerryError("EPROTO", `field "${f}" must be one of ${HASH_ALGORITHMS.join(", ")}`, { field: f });
};
const alg = optional(hashAlg);
/** A hash of some algorithm: its length is checked against `alg` by {@link hashRules}. */
const anyHash: Check<string> = (v, f) => {
  if (typeof v === "string" && /^[0-9a-f]+$/.test(v) && Object.values(HASH_HEX_DIGITS).includes(v.length))
    return v;
  throw new FerryError("EPROTO", `field "${f}" must be lower-case hex of a hash`, { field: f });
};

type Rule<T> = (value: T) => [field: string, expected: string] | undefined;

/**
 * §1.2: with alg md5 (or none) the value rides in `md5Field`, else in `hashField` at the length of
 * `alg`; never in the other.
 */
function hashRules(md5Field: string, hashField: string, required: boolean): Rule<Record<string, unknown>> {
  return (m) => {
    const a = (m.alg as HashAlgorithm | undefined) ?? "md5";
    const md5 = m[md5Field];
    const other = m[hashField];
    if (a === "md5") {
      if (other !== undefined) return [hashField, `absent when alg is md5 (the md5 rides in ${md5Field})`];
      if (required && md5 === undefined) return [md5Field, "present"];
      return undefined;
    }
    if (md5 !== undefined) return [md5Field, `absent when alg is ${a} (the hash rides in ${hashField})`];
    if (required && other === undefined) return [hashField, `present when alg is ${a}`];
    if (typeof other === "string" && other.length !== HASH_HEX_DIGITS[a]) {
      return [hashField, `${HASH_HEX_DIGITS[a]} lower-case hex digits for ${a}`];
    }
    return undefined;
  };
}

function rules<T>(...list: Rule<T>[]): Rule<T> {
  return (value) => {
    for (const rule of list) {
      const broken = rule(value);
      if (broken) return broken;
    }
    return undefined;
  };
}
const name: Check<string> = (v, f) => {
  const s = string(v, f);
  if (s.length === 0 || Buffer.byteLength(s) > MAX_NAME_BYTES) {
    throw new FerryError("EPROTO", `field "${f}" must be a name of 1 to ${MAX_NAME_BYTES} bytes`, {
      field: f,
    });
  }
  return s;
};

/** Adds a rule across fields to a shape check: `rule` returns the offending field and what it must be. */
function refine<T>(check: Check<T>, rule: Rule<T>): Check<T> {
  return (v, f) => {
    const value = check(v, f);
    const broken = rule(value);
    if (broken) {
      const field = f ? `${f}.${broken[0]}` : broken[0];
      throw new FerryError("EPROTO", `field "${field}" must be ${broken[1]}`, { field });
    }
    return value;
  };
}

/** One SCRAM message (RFC 5802): printable ASCII, at most {@link SCRAM_MAX_MESSAGE_CHARS}. */
const scramMessage: Check<string> = (v, f) => {
  const s = string(v, f);
  if (s.length === 0 || s.length > SCRAM_MAX_MESSAGE_CHARS || !/^[\x20-\x7e]+$/.test(s)) {
    throw new FerryError(
      "EPROTO",
      `field "${f}" must be a SCRAM message of 1 to ${SCRAM_MAX_MESSAGE_CHARS} printable ASCII characters`,
      { field: f },
    );
  }
  return s;
};

/** How a server wants clients to log in: not at all, a shared secret's challenge, or SCRAM accounts. */
export const AUTH_MODES = [false, true, "scram-sha-256"] as const;
export type AuthMode = (typeof AUTH_MODES)[number];
const authMode: Check<AuthMode> = (v, f) => {
  if (v === false || v === true || v === SCRAM_MECHANISM) return v;
  throw new FerryError("EPROTO", `field "${f}" must be false, true or "${SCRAM_MECHANISM}"`, { field: f });
};

/** A resume offset is only meaningful with the hash of the bytes before it. */
const prefixHashWithOffset = (m: {
  offset?: number;
  alg?: HashAlgorithm;
  prefixMd5?: string;
  prefixHash?: string;
}): [string, string] | undefined =>
  m.offset !== undefined && m.offset > 0 && prefixHashOf(m) === undefined
    ? [algOf(m) === "md5" ? "prefixMd5" : "prefixHash", "present when offset is over 0"]
    : undefined;

const requestShapes = {
  hello: object({ cmd: literal("hello"), id, version: integer(1, 65535), client: string }),
  /** Exactly one of `hmac` (shared-secret mode) and `scram` (accounts: a SCRAM-SHA-256 message). */
  auth: refine(
    object({ cmd: literal("auth"), id, hmac: optional(hex(64)), scram: optional(scramMessage) }),
    (m) =>
      (m.hmac === undefined) === (m.scram === undefined)
        ? ["hmac", "given, or else scram (one of the two)"]
        : undefined,
  ),
  put: refine(
    object({
      cmd: literal("put"),
      id,
      path,
      size,
      md5: optional(md5Hex),
      alg,
      hash: optional(anyHash),
      overwrite: optional(boolean),
      parents: optional(boolean),
      handshake: optional(boolean),
      resumeTarget: optional(boolean),
      /** Milliseconds since the epoch: the mtime the server gives the file at commit. */
      mtime: optional(integer(0)),
    }),
    hashRules("md5", "hash", false),
  ),
  get: refine(
    object({
      cmd: literal("get"),
      id,
      path,
      offset: optional(size),
      prefixMd5: optional(md5Hex),
      alg,
      prefixHash: optional(anyHash),
    }),
    rules(hashRules("prefixMd5", "prefixHash", false), prefixHashWithOffset),
  ),
  list: object({ cmd: literal("list"), id, path, alg }),
  sum: object({ cmd: literal("sum"), id, path, alg }),
  stat: object({ cmd: literal("stat"), id, path, alg }),
  mkdir: object({ cmd: literal("mkdir"), id, path, parents: optional(boolean) }),
  delete: object({ cmd: literal("delete"), id, path, recursive: optional(boolean) }),
  rename: object({ cmd: literal("rename"), id, from: path, to: path, overwrite: optional(boolean) }),
  df: object({ cmd: literal("df"), id }),
  bye: object({ cmd: literal("bye"), id }),
  data: object({ cmd: literal("data"), id, offset: size, size }),
  end: refine(
    object({ cmd: literal("end"), id, md5: optional(md5Hex), alg, hash: optional(anyHash) }),
    hashRules("md5", "hash", true),
  ),
};

type Shapes = typeof requestShapes;
export type Command = keyof Shapes;
export type MessageOf<C extends Command> = ReturnType<Shapes[C]>;

export type HelloRequest = MessageOf<"hello">;
export type AuthRequest = MessageOf<"auth">;
export type PutRequest = MessageOf<"put">;
export type GetRequest = MessageOf<"get">;
export type ListRequest = MessageOf<"list">;
export type SumRequest = MessageOf<"sum">;
export type StatRequest = MessageOf<"stat">;
export type MkdirRequest = MessageOf<"mkdir">;
export type DeleteRequest = MessageOf<"delete">;
export type RenameRequest = MessageOf<"rename">;
export type DfRequest = MessageOf<"df">;
export type ByeRequest = MessageOf<"bye">;
/** Precedes exactly `size` payload bytes: the file's bytes from `offset` on. */
export type DataFrame = MessageOf<"data">;
/** The trailer: the md5 of the whole file, for a sender that did not know it up front. */
export type EndFrame = MessageOf<"end">;

export type Request =
  | HelloRequest
  | AuthRequest
  | PutRequest
  | GetRequest
  | ListRequest
  | SumRequest
  | StatRequest
  | MkdirRequest
  | DeleteRequest
  | RenameRequest
  | DfRequest
  | ByeRequest;
/** Anything a client may send. */
export type ClientFrame = Request | DataFrame | EndFrame;

export const COMMANDS = Object.keys(requestShapes) as Command[];

/** Longest error message an error reply carries (≤ 6 KiB as JSON), well inside the default header limit. */
const MAX_MESSAGE_CHARS = 1024;

/** A peer's value for an error message, cut short: echoing 64 KiB back could overflow the reply. */
function quote(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 64 ? `${text.slice(0, 64)}...` : text;
}

function isCommand(value: unknown): value is Command {
  return typeof value === "string" && Object.hasOwn(requestShapes, value);
}

/** The outcome of validating an untrusted header: a typed message, or an error with the request id when known. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; error: FerryError; id: number | null };

function idOf(header: Record<string, unknown>): number | null {
  const raw = header.id;
  return typeof raw === "number" && Number.isSafeInteger(raw) && raw >= 0 && raw < 2 ** 32 ? raw : null;
}

function attempt<T>(header: Record<string, unknown>, parse: () => T): Parsed<T> {
  try {
    return { ok: true, value: parse() };
  } catch (err) {
    return { ok: false, error: toFerryError(err, "EPROTO"), id: idOf(header) };
  }
}

/**
 * Validates the first frame of a session (server side). The version is checked before any other
 * field, so a client of another version learns EVERSION whatever else its hello holds or lacks: the
 * shape of a version-1 hello binds only version-1 clients (PROTOCOL.md §3).
 */
export function parseHello(
  header: Record<string, unknown>,
  supported = PROTOCOL_VERSION,
): Parsed<ClientFrame> {
  if (header.cmd === "hello" && header.version !== supported) {
    const error = new FerryError(
      "EVERSION",
      `protocol version ${quote(header.version)} is not supported; this server speaks ${supported}`,
      { field: "version" },
    );
    return { ok: false, error, id: idOf(header) };
  }
  return parseClientFrame(header);
}

/** Validates a header sent by a client (server side). */
export function parseClientFrame(header: Record<string, unknown>): Parsed<ClientFrame> {
  return attempt(header, () => {
    const cmd = header.cmd;
    if (!isCommand(cmd)) {
      throw new FerryError("EPROTO", `unknown cmd ${quote(cmd)}`, { field: "cmd" });
    }
    return requestShapes[cmd](header, "") as ClientFrame;
  });
}

// ---- replies (server → client) ----

export const ENTRY_TYPES = ["file", "dir", "symlink", "other"] as const;
export type EntryType = (typeof ENTRY_TYPES)[number];

const entry = object({
  name,
  type: oneOf(ENTRY_TYPES),
  size,
  /** Milliseconds since the Unix epoch. */
  mtime: integer(0),
  md5: optional(md5Hex),
  /** The cached hash in the listing's `alg` when that is not md5 (§1.2). */
  hash: optional(anyHash),
});
export type Entry = ReturnType<typeof entry>;

const replyShapes = {
  /**
   * Answer to hello. `auth`: false (ready), true (shared secret: `challenge`, 32 random bytes in hex,
   * is present) or "scram-sha-256" (accounts: log in with SCRAM).
   */
  hello: refine(
    object({
      ok: literal(true),
      id,
      type: literal("hello"),
      version: integer(1, 65535),
      server: string,
      auth: authMode,
      challenge: optional(hex(64)),
      /** The `alg`s the server offers (§1.2); absent: md5 only. Names this side does not know are kept. */
      hashes: optional(arrayOf(string)),
    }),
    (m) =>
      m.auth === true && m.challenge === undefined ? ["challenge", "present when auth is true"] : undefined,
  ),
  /** Plain success: auth with a shared secret, mkdir, delete, rename, bye. */
  ok: object({ ok: literal(true), id, type: literal("ok") }),
  /** A SCRAM step of the server: server-first (to the client-first), server-final (the login is done). */
  scram: object({ ok: literal(true), id, type: literal("scram"), scram: scramMessage }),
  /** put with handshake: send data from `offset`; a non-zero offset comes with the md5 of that prefix. */
  ready: refine(
    object({
      ok: literal(true),
      id,
      type: literal("ready"),
      offset: size,
      prefixMd5: optional(md5Hex),
      alg,
      prefixHash: optional(anyHash),
    }),
    rules(hashRules("prefixMd5", "prefixHash", false), prefixHashWithOffset),
  ),
  /** put committed: the file is on disk under its name, verified. */
  done: refine(
    object({
      ok: literal(true),
      id,
      type: literal("done"),
      size,
      md5: optional(md5Hex),
      alg,
      hash: optional(anyHash),
    }),
    hashRules("md5", "hash", true),
  ),
  /** get accepted: a data frame from `offset` follows, then an `end` frame when `md5` is absent here. */
  file: refine(
    object({
      ok: literal(true),
      id,
      type: literal("file"),
      size,
      mtime: integer(0),
      offset: size,
      md5: optional(md5Hex),
      alg,
      hash: optional(anyHash),
    }),
    hashRules("md5", "hash", false),
  ),
  /** One batch of a listing; `more: false` marks the last. */
  entries: object({
    ok: literal(true),
    id,
    type: literal("entries"),
    entries: arrayOf(entry),
    more: boolean,
    /** The list's `alg`: the entries' cached hashes are in it. */
    alg,
  }),
  /** Answer to stat; `alg` is the stat's, as a listing's is the list's. */
  entry: object({ ok: literal(true), id, type: literal("entry"), entry, alg }),
  /**
   * Answer to df: the served store's `free` and `total` bytes (absent where the store cannot tell,
   * as an object store cannot); the quota fields only where the
   * server keeps a quota for the user (`quotaBytes`/`quotaFiles` the limits, `used*` what is used).
   */
  df: object({
    ok: literal(true),
    id,
    type: literal("df"),
    free: optional(size),
    total: optional(size),
    quotaBytes: optional(size),
    usedBytes: optional(size),
    quotaFiles: optional(size),
    usedFiles: optional(size),
  }),
  /** Answer to sum: the hash of the whole file, and the size and mtime of the version hashed. */
  sum: refine(
    object({
      ok: literal(true),
      id,
      type: literal("sum"),
      size,
      mtime: integer(0),
      md5: optional(md5Hex),
      alg,
      hash: optional(anyHash),
    }),
    hashRules("md5", "hash", true),
  ),
};

export type ReplyType = keyof typeof replyShapes;
export type ReplyOf<T extends ReplyType> = ReturnType<(typeof replyShapes)[T]>;
export type HelloReply = ReplyOf<"hello">;
export type OkReply = ReplyOf<"ok">;
export type ScramReply = ReplyOf<"scram">;
export type ReadyReply = ReplyOf<"ready">;
export type DoneReply = ReplyOf<"done">;
export type FileReply = ReplyOf<"file">;
export type EntriesReply = ReplyOf<"entries">;
export type EntryReply = ReplyOf<"entry">;
export type DfReply = ReplyOf<"df">;
export type SumReply = ReplyOf<"sum">;
/** `id` is null when the server could not read the request's id (a malformed or oversized header). */
export interface ErrorReply {
  ok: false;
  id: number | null;
  code: ErrorCode;
  message: string;
  /** How long to wait before trying again, where the server can say (EBUSY of auth backoff). */
  retryAfterMs?: number;
}
export type SuccessReply =
  | HelloReply
  | OkReply
  | ScramReply
  | ReadyReply
  | DoneReply
  | FileReply
  | EntriesReply
  | EntryReply
  | DfReply
  | SumReply;
export type Reply = SuccessReply | ErrorReply;
export type ServerFrame = Reply | DataFrame | EndFrame;

function isReplyType(value: unknown): value is ReplyType {
  return typeof value === "string" && Object.hasOwn(replyShapes, value);
}

const errorReply = object({
  ok: literal(false),
  id: (v, f) => (v === null ? null : id(v, f)),
  code: string,
  message: string,
  retryAfterMs: optional(size),
});

/** Validates a header sent by a server (client side). Unknown error codes become EINTERNAL. */
export function parseServerFrame(header: Record<string, unknown>): Parsed<ServerFrame> {
  return attempt(header, () => {
    if (header.cmd === "data" || header.cmd === "end")
      return requestShapes[header.cmd](header, "") as ServerFrame;
    if (header.ok === false) {
      const e = errorReply(header, "");
      return { ...e, code: isErrorCode(e.code) ? e.code : "EINTERNAL" } as ErrorReply;
    }
    if (!isReplyType(header.type)) {
      throw new FerryError("EPROTO", `unknown reply type ${quote(header.type)}`, { field: "type" });
    }
    return replyShapes[header.type](header, "") as ServerFrame;
  });
}

/** The wire form of an error. Long messages are cut so the reply always fits in a header. */
export function errorReplyOf(id: number | null, err: FerryError): ErrorReply {
  const message =
    err.message.length > MAX_MESSAGE_CHARS ? `${err.message.slice(0, MAX_MESSAGE_CHARS)}...` : err.message;
  const retry = err.details.retryAfterMs;
  const reply: ErrorReply = { ok: false, id, code: err.code, message };
  if (typeof retry === "number" && Number.isSafeInteger(retry) && retry >= 0) reply.retryAfterMs = retry;
  return reply;
}

/** Rebuilds the typed error a server sent, so a client throws the same code. */
export function errorFromReply(reply: ErrorReply): FerryError {
  const details = reply.retryAfterMs === undefined ? {} : { retryAfterMs: reply.retryAfterMs };
  return new FerryError(reply.code, reply.message, details);
}
