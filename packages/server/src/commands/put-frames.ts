import { type DataFrame, FerryError, type Frame, type PutRequest, parseClientFrame } from "@ferry/protocol";
import type { SessionIO } from "../context.js";

/** Errors that mean the client went away (or was cut off): what arrived is kept for a resume. */
export function isConnectionLoss(err: unknown): boolean {
  return err instanceof FerryError && (err.code === "ECONNLOST" || err.code === "ETIMEDOUT");
}

async function next(io: SessionIO): Promise<Frame> {
  const frame = await io.nextFrame();
  if (!frame) throw new FerryError("ECONNLOST", "the connection closed in the middle of a put");
  return frame;
}

/** A request that arrived where the payload should be is handled as a request of its own. */
function giveBack(io: SessionIO, frame: Frame, parsed: ReturnType<typeof parseClientFrame>): void {
  const cmd = parsed.ok ? parsed.value.cmd : undefined;
  if (cmd !== "data" && cmd !== "end") io.unread(frame);
}

/** The next frame must be this put's data frame, at offset 0 or at the offered resume point `have`. */
export async function expectData(
  io: SessionIO,
  req: PutRequest,
  have: number,
): Promise<{ frame: Frame; header: DataFrame }> {
  const frame = await next(io);
  const parsed = parseClientFrame(frame.header);
  if (!parsed.ok || parsed.value.cmd !== "data" || parsed.value.id !== req.id) {
    giveBack(io, frame, parsed);
    throw new FerryError("EPROTO", `expected the data frame of put ${req.id}`);
  }
  const header = parsed.value;
  if (header.offset !== 0 && header.offset !== have) {
    throw new FerryError("ESIZE", `data offset ${header.offset} is neither 0 nor the offered ${have}`);
  }
  if (header.size !== req.size - header.offset) {
    throw new FerryError(
      "ESIZE",
      `data frame of ${header.size} bytes from offset ${header.offset}; the file has ${req.size}`,
      {
        expected: req.size - header.offset,
        actual: header.size,
      },
    );
  }
  return { frame, header };
}

/** The md5 of the `end` trailer of a put sent without an md5 up front. */
export async function expectTrailer(io: SessionIO, req: PutRequest): Promise<string> {
  const frame = await next(io);
  const parsed = parseClientFrame(frame.header);
  if (!parsed.ok || parsed.value.cmd !== "end" || parsed.value.id !== req.id) {
    giveBack(io, frame, parsed);
    throw new FerryError("EPROTO", `expected the end frame of put ${req.id}`);
  }
  return parsed.value.md5;
}

export function checksumMismatch(expected: string, actual: string): FerryError {
  return new FerryError("ECHECKSUM", `md5 mismatch: sent ${expected}, received ${actual}`, {
    expected,
    actual,
  });
}
