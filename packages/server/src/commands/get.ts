import { FerryError, type GetRequest } from "@ferry/protocol";
import type { SessionIO } from "../context.js";
import { fsError } from "../fs-errors.js";
import { createRunningHash, type RunningHash } from "../storage/hasher.js";
import { openForRead } from "../storage/open-read.js";
import { readRange } from "../storage/read-range.js";

/**
 * Sends a file: a `file` reply (with the md5 when the cache knows it), one data frame from the agreed
 * offset, and an `end` trailer with the md5 computed on the way when it was not known up front.
 */
export async function get(req: GetRequest, io: SessionIO): Promise<void> {
  const { sandbox, checksums } = io.server;
  const started = performance.now();
  const r = sandbox.resolve(req.path);
  const { fh, real } = await openForRead(sandbox, r.abs, req.path).catch((err) => {
    throw fsError(err, req.path);
  });
  let hash: RunningHash | null = null;
  try {
    const st = await fh.stat();
    if (st.isDirectory()) throw new FerryError("EISDIR", `is a directory: ${JSON.stringify(req.path)}`);
    if (!st.isFile()) throw new FerryError("EACCES", `not a regular file: ${JSON.stringify(req.path)}`);
    const size = st.size;
    const known = checksums.get(real, st);
    const wanted = req.offset ?? 0;
    let offset = 0;
    if (!known || (wanted > 0 && wanted <= size && req.prefixMd5)) hash = createRunningHash(size);
    if (hash && wanted > 0 && wanted <= size && req.prefixMd5) {
      for await (const chunk of readRange(fh, 0, wanted)) await hash.update(chunk);
      if ((await hash.peek()) === req.prefixMd5) offset = wanted;
      else {
        hash.close();
        hash = known ? null : createRunningHash(size);
      }
    }
    if (known && hash) {
      hash.close();
      hash = null;
    }
    const reply: Record<string, unknown> = {
      ok: true,
      id: req.id,
      type: "file",
      size,
      mtime: Math.max(0, Math.floor(st.mtimeMs)),
      offset,
      alg: "md5",
    };
    if (known) reply.md5 = known;
    await io.send(reply);
    const h = hash;
    const body = h ? hashing(readRange(fh, offset, size), h) : readRange(fh, offset, size);
    await io.sendData({ cmd: "data", id: req.id, offset, size: size - offset }, body);
    if (h) {
      const md5 = await h.digest();
      hash = null;
      await io.send({ cmd: "end", id: req.id, md5, alg: "md5" });
      const after = await fh.stat();
      if (after.size === st.size && after.mtimeMs === st.mtimeMs) checksums.set(real, st, md5);
    }
    const seconds = (performance.now() - started) / 1000;
    io.transfer({ cmd: "get", path: req.path, bytes: size - offset, size, offset, seconds, result: "ok" });
  } finally {
    hash?.close();
    await fh.close();
  }
}

async function* hashing(source: AsyncIterable<Buffer>, hash: RunningHash): AsyncGenerator<Buffer> {
  for await (const chunk of source) {
    await hash.update(chunk);
    yield chunk;
  }
}
