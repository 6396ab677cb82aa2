import { codeOfErrno, type ErrorCode, FerryError } from "@ferry/protocol";

/** Where the server reads an errno differently from a plain file-system failure. */
const SERVER_ERRNO: Record<string, ErrorCode> = {
  // O_NOFOLLOW met a symlink, or a loop of links: we refuse to follow it.
  ELOOP: "EBADPATH",
  ENAMETOOLONG: "EBADPATH",
  // Renaming a directory into itself.
  EINVAL: "EBADPATH",
};

/**
 * Turns a Node fs error into the protocol's code, naming the client's path and never the server's
 * absolute path (which would tell a client where the root lives).
 */
export function fsError(err: unknown, clientPath: string): FerryError {
  if (err instanceof FerryError) return err;
  const errno = (err as NodeJS.ErrnoException | undefined)?.code;
  const code = (errno && SERVER_ERRNO[errno]) || codeOfErrno(errno) || "EINTERNAL";
  const what = code === "EINTERNAL" ? `${errno ?? "error"}` : code.toLowerCase();
  return new FerryError(code, `${describe(code, what)}: ${JSON.stringify(clientPath)}`, {}, { cause: err });
}

function describe(code: ErrorCode, fallback: string): string {
  switch (code) {
    case "ENOENT":
      return "no such file or directory";
    case "EEXIST":
      return "already exists";
    case "EISDIR":
      return "is a directory";
    case "ENOTDIR":
      return "not a directory";
    case "ENOTEMPTY":
      return "directory not empty";
    case "EACCES":
      return "permission denied";
    case "ENOSPC":
      return "no space left on the server's disk";
    case "EBADPATH":
      return "path not allowed";
    default:
      return `server error (${fallback})`;
  }
}

export function errnoOf(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}
