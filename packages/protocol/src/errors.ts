/**
 * Every failure in ferry is a value with a stable string code. The server sends the code on the wire
 * (`{ ok: false, code, message }`); the client rethrows a {@link FerryError} with the same code, so
 * callers and tests match on `err.code`, never on message text.
 */
export const ERROR_CODES = {
  EBADPATH: "the path is not allowed: it is empty, too long, contains NUL or backslash, or leaves the root",
  ENOENT: "no such file or directory",
  EEXIST: "the target already exists; ask to overwrite it or choose another name",
  EISDIR: "the path is a directory, not a file",
  ENOTDIR: "a part of the path is not a directory",
  ENOTEMPTY: "the directory is not empty; delete it recursively or empty it first",
  EACCES: "permission denied: the server is read-only or the file is not accessible",
  ECHECKSUM: "the hash of the received bytes does not match the sender's; the transfer was discarded",
  EALG: "the server does not offer that hash algorithm; pick one it lists (md5 always works)",
  ESIZE: "the number of bytes received does not match the declared size",
  ECHANGED: "the file changed while it was being sent; try again",
  EPROTO: "protocol error: a frame or message was malformed",
  EVERSION: "the peer speaks an unsupported protocol version",
  ETLS: "the TLS handshake failed, or one side speaks TLS and the other plain TCP",
  EHOSTKEY: "the server's certificate is not the one trusted for this host; nothing was sent to it",
  EAUTH: "authentication failed: check the user name and password, or the shared secret",
  EBUSY: "the server is at its connection limit; try again later",
  ENOSPC: "not enough free space on the server's disk",
  EQUOTA: "over your quota on the server (bytes or files); delete something first",
  ETOOBIG: "too big: over the configured limit",
  ETIMEDOUT: "the connection was idle for too long and was closed",
  ECONNLOST: "the connection was lost; reconnect and retry (transfers resume where they stopped)",
  ECONNREFUSED: "could not connect to the server; check the host and port and that ferryd is running",
  ENOTFOUND: "the host name did not resolve; check its spelling, or give an IP address",
  EABORTED: "the transfer was aborted; run it again to resume",
  EMAXDELETE: "refused: the mirror would delete more than --max-delete allows; nothing was changed",
  EINTERNAL: "internal server error",
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && Object.hasOwn(ERROR_CODES, value);
}

export class FerryError extends Error {
  override readonly name = "FerryError";
  readonly code: ErrorCode;
  /** Structured facts for callers (e.g. both checksums of an ECHECKSUM). */
  readonly details: Readonly<Record<string, unknown>>;

  /** `options.cause`: the error underneath (an errno from the file system, a socket error), kept for logs. */
  constructor(
    code: ErrorCode,
    message?: string,
    details: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message ?? ERROR_CODES[code], options);
    this.code = code;
    this.details = details;
  }
}

export function isFerryError(err: unknown): err is FerryError {
  return err instanceof FerryError;
}

/** Turns anything thrown into a FerryError, keeping a code when it has one. */
export function toFerryError(err: unknown, fallback: ErrorCode = "EINTERNAL"): FerryError {
  if (err instanceof FerryError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new FerryError(fallback, message);
}

const CODE_OF_ERRNO: Readonly<Record<string, ErrorCode>> = {
  ENOENT: "ENOENT",
  EEXIST: "EEXIST",
  EISDIR: "EISDIR",
  ENOTDIR: "ENOTDIR",
  ENOTEMPTY: "ENOTEMPTY",
  EACCES: "EACCES",
  EPERM: "EACCES",
  EROFS: "EACCES",
  ENOSPC: "ENOSPC",
  EDQUOT: "ENOSPC",
  EFBIG: "ETOOBIG",
};

/**
 * The protocol code for a file-system errno (`ENOENT`, `EPERM`, `EDQUOT`, ...), so that a local
 * failure and the same failure on the server carry the same code; undefined when none fits.
 */
export function codeOfErrno(errno: string | undefined): ErrorCode | undefined {
  return errno === undefined ? undefined : CODE_OF_ERRNO[errno];
}
