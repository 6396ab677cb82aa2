import { codeOfErrno, FerryError } from "@ferry/protocol";

export { ERROR_CODES, type ErrorCode, FerryError, isFerryError } from "@ferry/protocol";

/**
 * Maps an error of the local file system to a FerryError with the same code a server would use, so
 * callers handle "local file missing" and "remote file missing" alike; `details.local` tells them apart.
 */
export function localError(err: unknown, file: string): FerryError {
  if (err instanceof FerryError) return err;
  const sys = err as NodeJS.ErrnoException;
  const code = codeOfErrno(sys?.code) ?? "EINTERNAL";
  // Node's text repeats the errno and the path ("ENOENT: no such file or directory, stat '/x'"): keep the middle.
  const message = sys instanceof Error ? sys.message : String(err);
  const reason = /^E[A-Z]+: ([^,]+)/.exec(message)?.[1] ?? message;
  return new FerryError(code, `local file ${file}: ${reason}`, {
    local: true,
    path: file,
    sysCode: sys?.code,
  });
}

/** The error every call gets once the connection is gone. */
export function connectionLost(message = "the connection is closed; reconnect and retry"): FerryError {
  return new FerryError("ECONNLOST", message);
}
