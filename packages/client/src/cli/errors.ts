import { isFerryError } from "@ferry/protocol";

/**
 * A failure found by the CLI itself (bad usage, not connected, a question that cannot be asked
 * without a terminal). Codes are stable strings like the protocol's, so tests match on `code`.
 */
export class CliError extends Error {
  override readonly name = "CliError";
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function usage(message: string): CliError {
  return new CliError("EUSAGE", message);
}

export function notConnected(): CliError {
  return new CliError("ENOTCONN", "not connected; use open HOST[:PORT]");
}

/** A local file that cannot be read, said once: "local file /x: no such file or directory". */
export function localFileError(err: NodeJS.ErrnoException, shownPath: string): CliError {
  const reason = /^E[A-Z]+: ([^,]+)/.exec(err.message)?.[1] ?? err.message;
  return new CliError(err.code ?? "ENOENT", `local file ${shownPath}: ${reason}`);
}

/** The code of anything thrown: a FerryError's or CliError's code, a Node errno code, or EINTERNAL. */
export function codeOf(err: unknown): string {
  if (isFerryError(err) || err instanceof CliError) return err.code;
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : "EINTERNAL";
}

/** Node's fs messages already start with the code ("ENOENT: no such file..."); keep one copy. */
export function messageOf(err: unknown, code: string = codeOf(err)): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.startsWith(`${code}: `) ? message.slice(code.length + 2) : message;
}

/**
 * One line for a person: `CODE: message`. Remote names may sit inside the message, so the caller
 * passes it through printable() before it reaches a terminal.
 */
export function describeError(err: unknown): string {
  const code = codeOf(err);
  return `${code}: ${messageOf(err, code).replace(/\s*\n\s*/g, " ")}`;
}

export function isAbort(err: unknown): boolean {
  return codeOf(err) === "EABORTED";
}
