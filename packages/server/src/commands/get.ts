import type { Stats } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import type { RunningHash } from "@ferry/protocol";
import { encodeFrame, FerryError, type GetRequest, mtimeOf, toFerryError } from "@ferry/protocol";
import type { SessionIO } from "../context.js";
import { fsError } from "../fs-errors.js";
import { assertUnchanged, assertUnchangedInline } from "../storage/file-version.js";
import { hashChunk, transferHash } from "../storage/hasher.js";
import { openForRead } from "../storage/open-read.js";
import { readRange } from "../storage/read-range.js";
import type { Resolved } from "../storage/sandbox.js";
import { md5Hex, readWhole, SMALL_GET_MAX } from "./get-small.js";

/** A get whose file is open and checked (and, when small, read whole), ready to be sent. */
export interface PreparedGet {
  readonly req: GetRequest;
  readonly fh: FileHandle;
  /** Names of the file below the root, links followed ("/"-joined): its checksum-cache key. */
  readonly real: string;
  readonly st: Stats;
  /** The whole file, when it is small. */
  readonly bytes: Buffer | null;
  readonly started: number;
}

/**
 * Everything of a get that only reads the disk: open (checking where the descriptor really leads),
 * stat, and for a small file the one read. `reserve(bytes)` is awaited before a small file is read
 * into memory (the pipeline's budget). Gets have no effects, so several may be prepared at once.
 */
export async function prepareGet(
  req: GetRequest,
  io: SessionIO,
  reserve: (bytes: number) => Promise<void> = async () => {},
): Promise<PreparedGet> {
  const { sandbox, dirs } = io.volume;
  const started = performance.now();
  const r = sandbox.resolve(req.path);
  const { fh, real, st } = await openForRead(dirs, r);
  try {
    assertRegularFile(req.path, r, st);
    let bytes: Buffer | null = null;
    if (st.size <= SMALL_GET_MAX) {
      await reserve(st.size);
      bytes = await readWhole(fh, st.size).catch((err) => {
        throw fsError(err, req.path);
      });
    }
    return { req, fh, real, st, bytes, started };
  } catch (err) {
    await fh.close().catch(() => {});
    throw err;
  }
}

/** What a get or a sum may read: a regular file, named without a trailing `/`. */
export function assertRegularFile(path: string, r: Resolved, st: Stats): void {
  if (st.isDirectory()) throw new FerryError("EISDIR", `is a directory: ${JSON.stringify(path)}`);
  if (r.dirOnly) throw new FerryError("ENOTDIR", `not a directory: ${JSON.stringify(path)}`);
  if (!st.isFile()) throw new FerryError("EACCES", `not a regular file: ${JSON.stringify(path)}`);
}

/** Sends a prepared get (reply, data, trailer when needed) and closes its file. */
export async function sendGet(p: PreparedGet, io: SessionIO): Promise<void> {
  const { req, fh, real, st, bytes } = p;
  // Bytes handed to the socket so far: what a get cut off (the client's Ctrl-C) reports in its log line.
  const sent = { offset: req.offset ?? 0, bytes: 0 };
  const log = (result: string) =>
    io.transfer({
      cmd: "get",
      path: req.path,
      bytes: sent.bytes,
      size: st.size,
      offset: sent.offset,
      seconds: (performance.now() - p.started) / 1000,
      result,
    });
  try {
    const offset = bytes
      ? await sendSmall(req, io, fh, real, st, bytes)
      : await sendStreamed(req, io, fh, real, st, sent);
    sent.offset = offset;
    sent.bytes = st.size - offset;
    log("ok");
  } catch (err) {
    log(toFerryError(err).code);
    throw err;
  } finally {
    // A small file was read whole: its close need not hold up the next reply.
    if (bytes) void fh.close().catch(() => {});
    else await fh.close();
  }
}

/**
 * Sends a file: a `file` reply (with the md5 when it is known up front), one data frame from the
 * agreed offset, and an `end` trailer with the md5 computed on the way when it was not known.
 */
export async function get(req: GetRequest, io: SessionIO): Promise<void> {
  await sendGet(await prepareGet(req, io), io);
}

/** The reply's `offset`: the requested one when the client's prefix hash matches, otherwise 0. */
function fileReply(req: GetRequest, st: Stats, offset: number, md5?: string): Record<string, unknown> {
  const reply: Record<string, unknown> = {
    ok: true,
    id: req.id,
    type: "file",
    size: st.size,
    mtime: mtimeOf(st),
    offset,
    alg: "md5",
  };
  if (md5) reply.md5 = md5;
  return reply;
}

/**
 * A small file is read whole with one read, its md5 taken from the cache or computed on the spot, and
 * reply, data frame and payload written to the socket in one go: no trailer, one system call.
 */
async function sendSmall(
  req: GetRequest,
  io: SessionIO,
  fh: FileHandle,
  real: string,
  st: Stats,
  bytes: Buffer,
): Promise<number> {
  const { checksums } = io.volume;
  const size = st.size;
  const known = checksums.get(real, st);
  const md5 = known ?? md5Hex(bytes);
  const wanted = req.offset ?? 0;
  const offset =
    wanted > 0 && wanted <= size && req.prefixMd5 && md5Hex(bytes.subarray(0, wanted)) === req.prefixMd5
      ? wanted
      : 0;
  // Read after the open, the bytes may mix two versions if the file changed since (and a cached md5
  // would not be theirs): ECHANGED goes out in place of the file reply (PROTOCOL.md §4 get).
  assertUnchangedInline(fh, st, req.path);
  await io.sendEncoded([
    encodeFrame(fileReply(req, st, offset, md5)),
    encodeFrame({ cmd: "data", id: req.id, offset, size: size - offset }),
    bytes.subarray(offset),
  ]);
  if (!known) checksums.set(real, st, md5);
  return offset;
}

async function sendStreamed(
  req: GetRequest,
  io: SessionIO,
  fh: FileHandle,
  real: string,
  st: Stats,
  sent: { offset: number; bytes: number },
): Promise<number> {
  const { checksums } = io.volume;
  const size = st.size;
  const known = checksums.get(real, st);
  const wanted = req.offset ?? 0;
  let offset = 0;
  let hash: RunningHash | null = null;
  try {
    if (!known || (wanted > 0 && wanted <= size && req.prefixMd5))
      hash = transferHash(size, io.server.options.hashThread);
    if (hash && wanted > 0 && wanted <= size && req.prefixMd5) {
      for await (const chunk of readRange(fh, 0, wanted)) await hashChunk(hash, chunk);
      if ((await hash.peek()) === req.prefixMd5) offset = wanted;
      else {
        hash.close();
        hash = known ? null : transferHash(size, io.server.options.hashThread);
      }
    }
    if (known && hash) {
      hash.close();
      hash = null;
    }
    await io.send(fileReply(req, st, offset, known));
    sent.offset = offset;
    const h = hash;
    await io.sendFile({ cmd: "data", id: req.id, offset, size: size - offset }, fh, offset, size, (chunk) => {
      sent.bytes += chunk.length;
      return h ? hashChunk(h, chunk) : undefined;
    });
    if (h) {
      const md5 = await h.digest();
      hash = null;
      // The bytes were read over the whole send: if the file changed meanwhile they may mix two
      // versions, and their md5 would vouch for a file that never existed. ECHANGED then goes out
      // in place of the trailer (PROTOCOL.md §4 get). With the md5 in the reply there is no trailer
      // to withhold; torn bytes fail the client's check of that md5 instead.
      await assertUnchanged(fh, st, req.path);
      await io.send({ cmd: "end", id: req.id, md5, alg: "md5" });
      checksums.set(real, st, md5);
    }
    return offset;
  } finally {
    hash?.close();
  }
}
