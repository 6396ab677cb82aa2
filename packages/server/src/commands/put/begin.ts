import { algOf, FerryError, hashOf, humanSize, type PutRequest } from "@ferry/protocol";
import type { SessionIO } from "../../context.js";
import { assertFileTarget, resolvePath } from "../../storage/path.js";
import type { Upload } from "../../storage/storage.js";

/**
 * Admission of a put, before a byte of its payload is accepted: the server's size limit here, then
 * everything storage checks (the target, free space, quota; with a handshake the claim of a partial).
 * The caller owns the upload and must end it (commit or abort).
 */
export async function beginPut(req: PutRequest, io: SessionIO): Promise<Upload> {
  const path = resolvePath(req.path);
  assertFileTarget(path);
  const { maxFileSize } = io.server.options;
  if (req.size > maxFileSize) {
    throw new FerryError(
      "ETOOBIG",
      `${humanSize(req.size)} is over the server's limit of ${humanSize(maxFileSize)} per file`,
      { size: req.size, max: maxFileSize },
    );
  }
  return io.storage.beginUpload({
    path,
    size: req.size,
    alg: algOf(req),
    hash: hashOf(req),
    mtime: req.mtime,
    overwrite: req.overwrite === true,
    parents: req.parents === true,
    resume: req.handshake === true,
    resumeTarget: req.resumeTarget === true,
    quota: io.access.quota,
  });
}
