import { codeOfErrno, type ErrorCode, isErrorCode, isFerryError } from "@ferry/protocol";

/**
 * The codes a ferry command can fail with: the protocol's (a server's answer, or the same failure on
 * the local side), and the CLI's own:
 * - EUSAGE: a command or option typed wrong (an unknown option is named in the message);
 * - ENOTCONN: no connection (open one first);
 * - ENOTTY: a question that needs a terminal (use --yes);
 * - ESHELL: a `!command` exited non-zero.
 */
export type CliCode = ErrorCode | "EUSAGE" | "ENOTCONN" | "ENOTTY" | "ESHELL";

const CLI_CODES: readonly string[] = ["EUSAGE", "ENOTCONN", "ENOTTY", "ESHELL"];

export function isCliCode(value: unknown): value is CliCode {
  return isErrorCode(value) || (typeof value === "string" && CLI_CODES.includes(value));
}

/**
 * A failure found by the CLI itself (bad usage, not connected, a question that cannot be asked
 * without a terminal). Codes are stable strings like the protocol's, so tests match on `code`.
 */
export class CliError extends Error {
  override readonly name = "CliError";
  constructor(
    readonly code: CliCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A usage error; `cause` when it comes from something underneath (a file that cannot be read). */
export function usage(message: string, cause?: unknown): CliError {
  return new CliError("EUSAGE", message, cause === undefined ? undefined : { cause });
}

export function notConnected(): CliError {
  return new CliError("ENOTCONN", "not connected; use open HOST[:PORT]");
}

/** Node's fs text without its errno and path: "ENOENT: no such file or directory, stat '/x'" → the middle. */
function errnoReason(err: NodeJS.ErrnoException): string {
  return /^E[A-Z]+: ([^,]+)/.exec(err.message)?.[1] ?? err.message;
}

/** A local file that cannot be read, said once: "local file /x: no such file or directory". */
export function localFileError(err: NodeJS.ErrnoException, shownPath: string, what = "local file"): CliError {
  return new CliError(codeOfErrno(err.code) ?? "EINTERNAL", `${what} ${shownPath}: ${errnoReason(err)}`, {
    cause: err,
  });
}

/** The code of anything thrown: a FerryError's or CliError's code, a known errno, or EINTERNAL. */
export function codeOf(err: unknown): CliCode {
  if (isFerryError(err) || err instanceof CliError) return err.code;
  const code = (err as { code?: unknown } | null)?.code;
  if (isCliCode(code)) return code;
  return (typeof code === "string" ? codeOfErrno(code) : undefined) ?? "EINTERNAL";
}

/** Node's fs messages already start with the code ("ENOENT: no such file..."); keep one copy. */
export function messageOf(err: unknown, code: string = codeOf(err)): string {
  const message = err instanceof Error ? err.message : String(err);
  const sys = (err as { code?: unknown } | null)?.code;
  for (const prefix of [code, sys]) {
    if (typeof prefix === "string" && message.startsWith(`${prefix}: `))
      return message.slice(prefix.length + 2);
  }
  return message;
}

/**
 * One line for a person: `CODE: message`. Remote names may sit inside the message, so the caller
 * passes it through printable() before it reaches a terminal.
 */
export function describeError(err: unknown): string {
  const code = codeOf(err);
  return `${code}: ${messageOf(err, code).replace(/\s*\n\s*/g, " ")}`;
}

/**
 * An early session (ConnectOptions.early) refused because the server wants a login: none of its
 * requests were done, so the command may run again after a login.
 */
export function isEarlyLoginRefusal(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    const details = (e as { details?: { early?: unknown; authRequired?: unknown } }).details;
    if (isFerryError(e) && details?.early === true && details.authRequired === true) return true;
  }
  return false;
}

export function isAbort(err: unknown): boolean {
  return codeOf(err) === "EABORTED";
}
