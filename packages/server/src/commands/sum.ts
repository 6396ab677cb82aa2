import { mtimeOf, type SumReply, type SumRequest } from "@ferry/protocol";
import type { SessionIO } from "../context.js";
import { fsError } from "../fs-errors.js";
import { assertUnchanged } from "../storage/file-version.js";
import { hashFile } from "../storage/hash-file.js";
import { transferHash } from "../storage/hasher.js";
import { openForRead } from "../storage/open-read.js";
import { READ_CHUNK } from "../storage/read-range.js";
import { assertRegularFile } from "./get.js";

/** What hashing one file holds in memory at most (hashFile's two buffers), for the pipeline's budget. */
const SUM_BUFFER_BYTES = 2 * READ_CHUNK;

/**
 * The md5 of a whole file, from the checksum cache or read and hashed here (2 MiB of buffers
 * whatever the size), with the size and mtime of the version hashed. Like a get, it opens the file
 * through the sandbox, follows links inside the root only, and answers ECHANGED rather than vouch
 * for bytes read across a change. `reserve(bytes)` is awaited before the buffers are taken (the
 * pipeline's budget); sums have no effects, so several may be computed at once.
 */
export async function computeSum(
  req: SumRequest,
  io: SessionIO,
  reserve: (bytes: number) => Promise<void> = async () => {},
): Promise<SumReply> {
  const { sandbox, dirs, checksums } = io.volume;
  const { options } = io.server;
  const r = sandbox.resolve(req.path);
  const { fh, real, st } = await openForRead(dirs, r);
  try {
    assertRegularFile(req.path, r, st);
    let md5 = checksums.get(real, st);
    if (md5 === undefined) {
      await reserve(Math.min(st.size, SUM_BUFFER_BYTES));
      const hash = transferHash(st.size, options.hashThread);
      try {
        await hashFile(fh, st.size, hash).catch((err) => {
          throw fsError(err, req.path);
        });
        md5 = await hash.digest();
      } finally {
        hash.close();
      }
      await assertUnchanged(fh, st, req.path);
      checksums.set(real, st, md5);
    }
    return { ok: true, id: req.id, type: "sum", size: st.size, mtime: mtimeOf(st), md5, alg: "md5" };
  } finally {
    await fh.close().catch(() => {});
  }
}

/** `sum`: see PROTOCOL.md §4. */
export async function sum(req: SumRequest, io: SessionIO): Promise<void> {
  await io.send(await computeSum(req, io));
}
