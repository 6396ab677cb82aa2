import type { Stats } from "node:fs";
import { lstat } from "node:fs/promises";
import { FerryError, humanSize, type PutRequest } from "@ferry/protocol";
import type { SessionIO } from "../context.js";
import { errnoOf, fsError } from "../fs-errors.js";
import type { DirRef } from "../storage/dir-handles.js";
import { type Resolved, STAGING_DIR } from "../storage/sandbox.js";

export interface Admitted {
  target: Resolved;
  /** The directory that will hold the file, held open until `dir.release()`. */
  dir: DirRef;
  /** The name in `dir` the file will be committed to (through the directory's handle). */
  dest: string;
  /** Names of the target below the root, links followed ("/"-joined): the checksum cache's key. */
  destReal: string;
  /** What the name holds now (a put with `overwrite` replaces it), or null. */
  existing: Stats | null;
}

/**
 * Everything a put is checked for before a byte of its payload is accepted. On success the caller
 * owns `dir` and must release it.
 */
export async function admitPut(req: PutRequest, io: SessionIO): Promise<Admitted> {
  const { options } = io.server;
  const { sandbox, dirs } = io.volume;
  const target = sandbox.resolve(req.path);
  if (target.isRoot) throw new FerryError("EISDIR", "the root is a directory");
  if (target.dirOnly)
    throw new FerryError("EISDIR", `a path ending in / names a directory: ${JSON.stringify(req.path)}`);
  if (req.size > options.maxFileSize) {
    throw new FerryError(
      "ETOOBIG",
      `${humanSize(req.size)} is over the server's limit of ${humanSize(options.maxFileSize)} per file`,
      {
        size: req.size,
        max: options.maxFileSize,
      },
    );
  }
  let dir: DirRef;
  try {
    dir = await dirs.acquire(target.names.slice(0, -1), req.path, req.parents === true);
  } catch (err) {
    throw fsError(err, req.path);
  }
  try {
    const name = target.names[target.names.length - 1] as string;
    if (name === STAGING_DIR) throw new FerryError("EBADPATH", "reserved name");
    const dest = dir.at(name);
    const existing = await lstat(dest).catch((err) => {
      if (errnoOf(err) === "ENOENT") return null;
      throw fsError(err, req.path);
    });
    if (existing?.isDirectory())
      throw new FerryError("EISDIR", `is a directory: ${JSON.stringify(req.path)}`);
    if (existing && !req.overwrite)
      throw new FerryError("EEXIST", `already exists: ${JSON.stringify(req.path)}`);
    return { target, dir, dest, destReal: [...dir.names, name].join("/"), existing };
  } catch (err) {
    dir.release();
    throw err;
  }
}
