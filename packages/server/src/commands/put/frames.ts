import {
  algOf,
  type ClientFrame,
  type DataFrame,
  FerryError,
  type Frame,
  hashOf,
  type Parsed,
  type PutRequest,
  parseClientFrame,
} from "@ferry/protocol";
import type { SessionIO } from "../../context.js";

/** Errors that mean the client went away (or was cut off): what arrived is kept for a resume. */
export function isConnectionLoss(err: unknown): boolean {
  return err instanceof FerryError && (err.code === "ECONNLOST" || err.code === "ETIMEDOUT");
}

async function next(io: SessionIO): Promise<Frame> {
  const frame = await io.nextFrame();
  if (!frame) throw new FerryError("ECONNLOST", "the connection closed in the middle of a put");
  return frame;
}

/**
 * What a frame other than the expected data/end frame of put `req` means for that put: the EPROTO
 * it fails with. A request is handed back to the session, to be handled as a request of its own
 * (PROTOCOL.md §5). A data or end frame, judged by its raw `cmd` even when validation failed, is
 * never a request: it is consumed here, so that it is not answered a second time under the put's id.
 *
 * Such a put fails alone and the connection goes on, as for any well-formed header with a wrong
 * field: the framing layer delimits a data frame's payload by its `size` alone (a `size` that is not
 * a size is a framing error that closes the connection before this point), so the session skips the
 * payload of a malformed data frame and the stream stays in step.
 */
function unexpectedFrame(
  io: SessionIO,
  frame: Frame,
  parsed: Parsed<ClientFrame>,
  req: PutRequest,
  want: "data" | "end",
): FerryError {
  const cmd = frame.header.cmd;
  if (cmd !== "data" && cmd !== "end") io.unread(frame);
  else if (!parsed.ok) {
    return new FerryError("EPROTO", `malformed ${cmd} frame of put ${req.id}: ${parsed.error.message}`, {
      ...parsed.error.details,
    });
  }
  return new FerryError("EPROTO", `expected the ${want} frame of put ${req.id}`);
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
    throw unexpectedFrame(io, frame, parsed, req, "data");
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

/** The hash of the `end` trailer of a put sent without one up front, in the put's alg. */
export async function expectTrailer(io: SessionIO, req: PutRequest): Promise<string> {
  const frame = await next(io);
  const parsed = parseClientFrame(frame.header);
  if (!parsed.ok || parsed.value.cmd !== "end" || parsed.value.id !== req.id) {
    throw unexpectedFrame(io, frame, parsed, req, "end");
  }
  const end = parsed.value;
  const hex = hashOf(end);
  if (algOf(end) !== algOf(req) || hex === undefined) {
    throw new FerryError("EPROTO", `the end frame's alg ${algOf(end)} is not the put's ${algOf(req)}`, {
      field: "alg",
    });
  }
  return hex;
}

export function checksumMismatch(expected: string, actual: string): FerryError {
  return new FerryError("ECHECKSUM", `hash mismatch: sent ${expected}, received ${actual}`, {
    expected,
    actual,
  });
}
