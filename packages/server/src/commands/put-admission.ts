import { lstat } from "node:fs/promises";
import path from "node:path";
import { FerryError, type PutRequest } from "@ferry/protocol";
import type { SessionIO } from "../context.js";
import { errnoOf, fsError } from "../fs-errors.js";
import { ensureDir } from "../storage/dirs.js";
import { type Resolved, STAGING_DIR } from "../storage/sandbox.js";
import { assertWritable } from "./guard.js";

export interface Admitted {
  target: Resolved;
  /** Real path of the directory that will hold the file. */
  dir: string;
  /** Absolute path the file will be committed to (real directory + name). */
  dest: string;
}

/** Everything a put is checked for before a byte of its payload is accepted. */
export async function admitPut(req: PutRequest, io: SessionIO): Promise<Admitted> {
  assertWritable(io);
  const { sandbox, options } = io.server;
  const target = sandbox.resolve(req.path);
  if (target.isRoot) throw new FerryError("EISDIR", "the root is a directory");
  if (req.size > options.maxFileSize) {
    throw new FerryError(
      "ETOOBIG",
      `${req.size} bytes is over the server's limit of ${options.maxFileSize}`,
      {
        size: req.size,
        max: options.maxFileSize,
      },
    );
  }
  const parent = sandbox.resolve(`/${target.names.slice(0, -1).join("/")}`);
  let dir: string;
  try {
    dir = req.parents ? await ensureDir(sandbox, parent) : await sandbox.realInside(parent.abs, req.path);
    if (!(await lstat(dir)).isDirectory())
      throw new FerryError("ENOTDIR", `not a directory: ${JSON.stringify(req.path)}`);
  } catch (err) {
    throw fsError(err, req.path);
  }
  const name = target.names[target.names.length - 1] as string;
  if (dir === sandbox.root && name === STAGING_DIR) throw new FerryError("EBADPATH", "reserved name");
  const dest = path.join(dir, name);
  const existing = await lstat(dest).catch((err) => {
    if (errnoOf(err) === "ENOENT") return null;
    throw fsError(err, req.path);
  });
  if (existing?.isDirectory()) throw new FerryError("EISDIR", `is a directory: ${JSON.stringify(req.path)}`);
  if (existing && !req.overwrite)
    throw new FerryError("EEXIST", `already exists: ${JSON.stringify(req.path)}`);
  return { target, dir, dest };
}
