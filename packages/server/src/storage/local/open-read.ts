import type { Stats } from "node:fs";
import { constants, fstatSync } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { FerryError } from "@ferry/protocol";
import { errnoOf, fsError } from "../../fs-errors.js";
import type { DirHandles, DirRef } from "./dir-handles.js";
import type { Resolved } from "./sandbox.js";

// O_NONBLOCK: opening a FIFO planted in the root must not block a thread waiting for a writer.
// O_NOFOLLOW: a final symlink is never followed by the kernel; it is refused (ELOOP) and followed
// by DirHandles.follow under the sandbox's rules.
const READ_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW;
const MAX_RETRIES = 8;

type Opened = { fh: FileHandle; real: string; st: Stats };

/**
 * Opens the file a path names for reading, following links only inside the root and opening the
 * final name through its directory's handle. Returns the handle, the file's names below the root
 * ("/"-joined, the checksum-cache key) and its stat, taken from the open descriptor.
 *
 * The final name is opened straight away (O_NOFOLLOW): a name that is not a link, the usual case,
 * costs one thread-pool call instead of an lstat and an open. Only a link (ELOOP) takes the road
 * through DirHandles.follow, which reads it and follows it inside the root.
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
): Promise<{ fh: FileHandle; st: Stats } | null> {
  const fh = await open(dir.at(name), READ_FLAGS).catch((err) => {
    if (errnoOf(err) === "ELOOP" && retry) return null;
    throw fsError(err, client);
  });
  if (!fh) return null;
  try {
    // Our own open descriptor: fstat touches no disk, so it runs inline rather than as a
    // thread-pool round trip (100 µs and more on the bench VMs).
    return { fh, st: fstatSync(fh.fd) };
  } catch (err) {
    await fh.close();
    throw fsError(err, client);
  }
}
