import { algOf, FerryError, hashOf, type PutRequest, prefixHashFields } from "@ferry/protocol";
import type { SessionIO } from "../../context.js";
import { beginPut } from "./begin.js";
import { expectData, expectTrailer, isConnectionLoss } from "./frames.js";
import { answerPut, NOW, verifyAndCommit } from "./tail.js";

/**
 * Upload, one request at a time: admission, the ready handshake (with the resume point), the payload
 * streamed into storage while hashed, then the shared tail (verify, commit, `done`). See PROTOCOL.md
 * §4 put and §6. Small streamed puts take the session's pipeline instead (small.ts, same tail).
 */
export async function put(req: PutRequest, io: SessionIO): Promise<void> {
  const started = performance.now();
  let moved = 0;
  let offset = 0;
  const log = (result: string) =>
    io.transfer({
      cmd: "put",
      path: req.path,
      bytes: moved,
      size: req.size,
      offset,
      seconds: (performance.now() - started) / 1000,
      result,
    });
  let upload: Awaited<ReturnType<typeof beginPut>> | null = null;
  // Whether what storage holds stays resumable if the put ends now: a claimed partial until the
  // payload starts, the bytes received if the connection is lost during the payload or the trailer.
  let keep = true;
  try {
    upload = await beginPut(req, io);
    const have = upload.received;
    if (req.handshake) {
      const alg = algOf(req);
      const ready: Record<string, unknown> = { ok: true, id: req.id, type: "ready", offset: have };
      if (alg !== "md5") ready.alg = alg; // echoed, as every reply to a request in another alg (§1.2)
      if (have > 0) Object.assign(ready, prefixHashFields(alg, await upload.prefixHash()));
      await io.send(ready);
    }
    const data = await expectData(io, req, have).catch((err: unknown) => {
      if (err instanceof FerryError && err.code === "ESIZE") keep = false;
      throw err;
    });
    keep = false;
    if (data.header.offset === 0 && have > 0) await upload.restart();
    offset = data.header.offset;
    try {
      for await (const chunk of data.frame.payload) {
        await upload.write(chunk);
        moved += chunk.length;
      }
    } catch (err) {
      keep = isConnectionLoss(err);
      throw err;
    }
    keep = true; // every byte is here: losing the connection now still leaves a resumable partial
    const expected =
      hashOf(req) ??
      (await expectTrailer(io, req).catch((err: unknown) => {
        keep = isConnectionLoss(err);
        throw err;
      }));
    keep = false;
    const hex = await verifyAndCommit(upload, expected, NOW);
    await answerPut(req, upload, hex, io);
    log("ok");
  } catch (err) {
    log(err instanceof FerryError ? err.code : "EINTERNAL");
    throw err;
  } finally {
    await upload?.abort(keep);
  }
}
