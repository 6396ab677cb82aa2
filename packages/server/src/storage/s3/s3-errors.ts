import { S3ServiceException } from "@aws-sdk/client-s3";
import { type ErrorCode, FerryError } from "@ferry/protocol";

/** S3 error names (and HTTP statuses) that mean a protocol error of their own. */
const CODE_OF_S3: Readonly<Record<string, ErrorCode>> = {
  NoSuchKey: "ENOENT",
  NotFound: "ENOENT",
  AccessDenied: "EACCES",
  Forbidden: "EACCES",
  PreconditionFailed: "ECHANGED",
  BadDigest: "ECHECKSUM",
  EntityTooLarge: "ETOOBIG",
  SlowDown: "EBUSY",
  ServiceUnavailable: "EBUSY",
  QuotaExceeded: "EQUOTA",
};

const CODE_OF_STATUS: Readonly<Record<number, ErrorCode>> = {
  403: "EACCES",
  404: "ENOENT",
  412: "ECHANGED",
  503: "EBUSY",
};

/** The S3 error's name (`NoSuchKey`, `NoSuchUpload`, ...), or undefined for anything else. */
export function s3ErrorName(err: unknown): string | undefined {
  return err instanceof S3ServiceException ? err.name : undefined;
}

/** The HTTP status of an S3 error reply, if the error is one. */
export function s3Status(err: unknown): number | undefined {
  return err instanceof S3ServiceException ? err.$metadata.httpStatusCode : undefined;
}

/** True when the store answered that the object (or upload) is not there. */
export function isS3NotFound(err: unknown): boolean {
  const name = s3ErrorName(err);
  return name === "NoSuchKey" || name === "NotFound" || name === "NoSuchUpload" || s3Status(err) === 404;
}

/**
 * An S3 failure as a FerryError naming the client's path (never the bucket or key, which tell a
 * client how the store is laid out). The store's own error stays as the cause, for the log.
 */
export function s3Error(err: unknown, clientPath: string, what = "object store"): FerryError {
  if (err instanceof FerryError) return err;
  const name = s3ErrorName(err);
  const status = s3Status(err);
  const code = (name && CODE_OF_S3[name]) || (status && CODE_OF_STATUS[status]) || "EINTERNAL";
  const why =
    name ?? (err as NodeJS.ErrnoException | undefined)?.code ?? (err as Error | undefined)?.name ?? "error";
  return new FerryError(code, `${what} (${why}): ${JSON.stringify(clientPath)}`, {}, { cause: err });
}
