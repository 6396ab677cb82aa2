import type { Stats } from "node:fs";
import { closeSync, constants, fstatSync, openSync } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { FerryError } from "@ferry/protocol";
import { errnoOf, fsError } from "../../fs-errors.js";
import type { DirHandles, DirRef } from "./dir-handles.js";
import type { Resolved } from "./sandbox.js";
import { SYNC_IO_MAX } from "./sync-io.js";

// O_NONBLOCK: opening a FIFO planted in the root must not block a thread waiting for a writer.
// O_NOFOLLOW: a final symlink is never followed by the kernel; it is refused (ELOOP) and followed
// by DirHandles.follow under the sandbox's rules.
const READ_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW;
const MAX_RETRIES = 8;

/**
 * An open file: a FileHandle, or for a small regular file (see SYNC_IO_MAX) and for anything that is
 * not a regular file (refused right away) a bare descriptor, read and closed with inline calls.
 */
export type OpenFile = FileHandle | number;

type Opened = { file: OpenFile; real: string; st: Stats };

/** Closes an {@link OpenFile}; call once. */
export async function closeOpenFile(file: OpenFile): Promise<void> {
  if (typeof file === "number") closeSync(file);
  else await file.close();
}

/**
 * Opens the file a path names for reading, following links only inside the root and opening the
 * final name through its directory's handle. Returns the open file, its names below the root
 * ("/"-joined, the checksum-cache key) and its stat, taken from the open descriptor.
 *
 * The final name is opened straight away (O_NOFOLLOW): a name that is not a link, the usual case,
 * costs one open instead of an lstat and an open, and it is an inline one: the size is not known
 * before the open, and most gets of a burst are of small files. A regular file bigger than
 * SYNC_IO_MAX is then opened again through the thread pool (its reads are big and go there too);
 * its version is the one that second open finds. Only a link (ELOOP) takes the road through
 * DirHandles.follow, which reads it and follows it inside the root.
 */
export async function openForRead(dirs: DirHandles, r: Resolved): Promise<Opened> {
  if (!r.isRoot) {
    const { dir, name, names } = await dirs.parentOf(r);
    try {
      const opened = await openIn(dir, name, r.client);
      if (opened) return { ...opened, real: names.join("/") };
    } finally {
      dir.release();
    }
  }
  for (let attempt = 0; ; attempt++) {
    const found = await dirs.follow(r);
    try {
      if (found.name === null) throw new FerryError("EISDIR", "the root is a directory");
      const opened = await openIn(found.dir, found.name, r.client, attempt < MAX_RETRIES);
      if (opened) return { ...opened, real: found.names.join("/") };
    } finally {
      found.dir.release();
    }
  }
}

/** Opens `name` in `dir` without following a final link; null when it is one (ELOOP) and `retry`. */
async function openIn(
  dir: DirRef,
  name: string,
  client: string,
  retry = true,
): Promise<{ file: OpenFile; st: Stats } | null> {
  let fd: number;
  try {
    fd = openSync(dir.at(name), READ_FLAGS);
  } catch (err) {
    if (errnoOf(err) === "ELOOP" && retry) return null;
    throw fsError(err, client);
  }
  let st: Stats;
  try {
    // Our own open descriptor: fstat touches no disk.
    st = fstatSync(fd);
  } catch (err) {
    closeSync(fd);
    throw fsError(err, client);
  }
  if (!st.isFile() || st.size <= SYNC_IO_MAX) return { file: fd, st };
  closeSync(fd);
  return openHandleIn(dir, name, client, retry);
}

/** {@link openIn} through the thread pool: a FileHandle, for a file whose reads go there too. */
async function openHandleIn(
  dir: DirRef,
  name: string,
  client: string,
  retry: boolean,
): Promise<{ file: OpenFile; st: Stats } | null> {
  const fh = await open(dir.at(name), READ_FLAGS).catch((err) => {
    if (errnoOf(err) === "ELOOP" && retry) return null;
    throw fsError(err, client);
  });
  if (!fh) return null;
  try {
    // Inline, as above: a thread-pool round trip costs more than the fstat of our own descriptor.
    return { file: fh, st: fstatSync(fh.fd) };
  } catch (err) {
    await fh.close();
    throw fsError(err, client);
  }
}
