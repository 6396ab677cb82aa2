import type { HashAlgorithm, RunningHash } from "@ferry/protocol";
import {
  algOf,
  createDigest,
  encodeFrame,
  type GetRequest,
  hashFields,
  prefixHashOf,
  toFerryError,
} from "@ferry/protocol";
import type { SessionIO } from "../context.js";
import { hashChunk, transferHash } from "../storage/hasher.js";
import { resolvePath } from "../storage/path.js";
import type { ReadHandle, ReserveMemory } from "../storage/storage.js";

/** Files up to this size are read whole and sent with their reply in one socket write. */
export const SMALL_GET_MAX = 1024 * 1024;

async function hashOfBytes(alg: HashAlgorithm, bytes: Uint8Array): Promise<string> {
  return (await createDigest(alg)).update(bytes).digest();
}

/** A get whose file is open (and, when small, read whole), ready to be sent. */
export interface PreparedGet {
  readonly req: GetRequest;
  readonly file: ReadHandle;
  /** The whole file, when it is small. */
  readonly bytes: Buffer | null;
  readonly started: number;
}

/**
 * Everything of a get that only reads storage: open (a regular file, links followed inside the tree
 * only) and for a small file the one read. `reserve(bytes)` is awaited before a small file is read
 * into memory (the pipeline's budget). Gets have no effects, so several may be prepared at once.
 */
export async function prepareGet(
  req: GetRequest,
  io: SessionIO,
  reserve: ReserveMemory = async () => {},
): Promise<PreparedGet> {
  const started = performance.now();
  const file = await io.storage.openRead(resolvePath(req.path));
  try {
    let bytes: Buffer | null = null;
    if (file.size <= SMALL_GET_MAX) {
      await reserve(file.size);
      bytes = await file.readAll();
    }
    return { req, file, bytes, started };
  } catch (err) {
    await file.close().catch(() => {});
    throw err;
  }
}

/** Sends a prepared get (reply, data, trailer when needed) and closes its file. */
export async function sendGet(p: PreparedGet, io: SessionIO): Promise<void> {
  const { req, file, bytes } = p;
  // Bytes handed to the socket so far: what a get cut off (the client's Ctrl-C) reports in its log line.
  const sent = { offset: req.offset ?? 0, bytes: 0 };
  const log = (result: string) =>
    io.transfer({
      cmd: "get",
      path: req.path,
      bytes: sent.bytes,
      size: file.size,
      offset: sent.offset,
      seconds: (performance.now() - p.started) / 1000,
      result,
    });
  try {
    const offset = bytes ? await sendSmall(req, io, file, bytes) : await sendStreamed(req, io, file, sent);
    sent.offset = offset;
    sent.bytes = file.size - offset;
    log("ok");
  } catch (err) {
    log(toFerryError(err).code);
    throw err;
  } finally {
    // A small file was read whole: its close need not hold up the next reply.
    if (bytes) void file.close().catch(() => {});
    else await file.close();
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
function fileReply(req: GetRequest, file: ReadHandle, offset: number, hex?: string): Record<string, unknown> {
  const alg = algOf(req);
  return {
    ok: true,
    id: req.id,
    type: "file",
    size: file.size,
    mtime: file.mtime,
    offset,
    alg,
    ...(hex ? hashFields(alg, hex) : {}),
  };
}

/**
 * A small file is read whole with one read, its md5 taken from storage or computed on the spot, and
 * reply, data frame and payload written to the socket in one go: no trailer, one system call.
 */
async function sendSmall(req: GetRequest, io: SessionIO, file: ReadHandle, bytes: Buffer): Promise<number> {
  const size = file.size;
  const alg = algOf(req);
  const known = file.knownHash(alg);
  const hex = known ?? (await hashOfBytes(alg, bytes));
  const wanted = req.offset ?? 0;
  const prefix = prefixHashOf(req);
  const offset =
    wanted > 0 && wanted <= size && prefix && (await hashOfBytes(alg, bytes.subarray(0, wanted))) === prefix
      ? wanted
      : 0;
  // Read after the open, the bytes may mix two versions if the file changed since (and a known md5
  // would not be theirs): ECHANGED goes out in place of the file reply (PROTOCOL.md §4 get).
  await file.assertUnchanged();
  await io.sendEncoded([
    encodeFrame(fileReply(req, file, offset, hex)),
    encodeFrame({ cmd: "data", id: req.id, offset, size: size - offset }),
    bytes.subarray(offset),
  ]);
  if (!known) file.remember(alg, hex);
  return offset;
}

async function sendStreamed(
  req: GetRequest,
  io: SessionIO,
  file: ReadHandle,
  sent: { offset: number; bytes: number },
): Promise<number> {
  const size = file.size;
  const alg = algOf(req);
  const known = file.knownHash(alg);
  const wanted = req.offset ?? 0;
  const prefix = prefixHashOf(req);
  const resuming = wanted > 0 && wanted <= size && prefix !== undefined;
  const thread = io.server.options.hashThread;
  let offset = 0;
  let hash: RunningHash | null = null;
  try {
    if (!known || resuming) hash = transferHash(size, thread, alg);
    if (hash && resuming) {
      for await (const chunk of file.read(0, wanted)) {
        try {
          await hashChunk(hash, chunk.bytes);
        } finally {
          chunk.release();
        }
      }
      if ((await hash.peek()) === prefix) offset = wanted;
      else {
        hash.close();
        hash = known ? null : transferHash(size, thread, alg);
      }
    }
    if (known && hash) {
      hash.close();
      hash = null;
    }
    await io.send(fileReply(req, file, offset, known));
    sent.offset = offset;
    const h = hash;
    await io.sendData(
      { cmd: "data", id: req.id, offset, size: size - offset },
      file.read(offset, size),
      (chunk) => {
        sent.bytes += chunk.length;
        return h ? hashChunk(h, chunk) : undefined;
      },
    );
    if (h) {
      const hex = await h.digest();
      hash = null;
      // The bytes were read over the whole send: if the file changed meanwhile they may mix two
      // versions, and their md5 would vouch for a file that never existed. ECHANGED then goes out
      // in place of the trailer (PROTOCOL.md §4 get). With the md5 in the reply there is no trailer
      // to withhold; torn bytes fail the client's check of that md5 instead.
      await file.assertUnchanged();
      await io.send({ cmd: "end", id: req.id, alg, ...hashFields(alg, hex) });
      file.remember(alg, hex);
    }
    return offset;
  } finally {
    hash?.close();
  }
}
