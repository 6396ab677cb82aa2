import type { FatalKind, Terminal } from "./fuzz-steps.js";
import { type Header, md5 } from "./raw-client.js";

/**
 * The session fuzz's judge: checks what one connection received against what it sent, as
 * PROTOCOL.md §4 and §5 describe (every request answered once and in order, unless the connection
 * ends first, and then only as §5.1 says).
 */

/** No header from the server is larger (PROTOCOL.md §1). */
const MAX_SERVER_HEADER = 32 * 1024;

/** The id-null frame each fatal terminal must end with. */
export const FATAL_CODE: Record<FatalKind, string> = {
  prefixHuge: "ETOOBIG",
  prefixOver: "ETOOBIG",
  zeroLength: "EPROTO",
  notJson: "EPROTO",
  array: "EPROTO",
  badUtf8: "EPROTO",
  negativeDataSize: "EPROTO",
  idNotANumber: "EPROTO",
  noId: "EPROTO",
};

/** What the client expects for one request id. */
export interface Sent {
  id: number;
  shape: "put" | "hput" | "get" | "list" | "one" | "error";
  /** A cut or lied-about request: it may go unanswered, and is never a success. */
  victim: boolean;
  /** For puts: the bytes the file must hold if `done`, and whether `done` is allowed at all. */
  data?: Buffer;
  mayCommit?: boolean;
  label: string;
}

export interface Received {
  header: Header;
  /** For data frames: md5 and length of the payload. */
  payload?: { md5: string; length: number };
}

export interface ConnectionResult {
  violations: string[];
  /** Bytes of every put answered `done`. */
  committed: Buffer[];
  /** Error codes and reply types seen, for the coverage summary. */
  codes: string[];
}

/** Checks the frames of one connection against what was sent (PROTOCOL.md §4, §5). */
export function judge(
  received: readonly Received[],
  sent: readonly Sent[],
  terminal: Terminal,
  hidden: string,
): ConnectionResult {
  const violations: string[] = [];
  const committed: Buffer[] = [];
  const errors = received.filter((r) => r.header.ok === false).map((r) => r.header);
  const codes = received.map(({ header: h }) => {
    if (h.ok === false) return String(h.code);
    if (h.type === "ready") return Number(h.offset) > 0 ? "ready(resume)" : "ready";
    if (h.type === "file") return h.md5 === undefined ? "file(trailer)" : "file(md5)";
    return String(h.type ?? h.cmd);
  });
  for (const e of errors) {
    // On a healthy disk every failure has a code of its own; EINTERNAL means a failure nobody mapped.
    if (e.code === "EINTERNAL") violations.push(`EINTERNAL: ${String(e.message)}`);
    // A message names the client's path, never where the root lives on the server.
    if (String(e.message).includes(hidden))
      violations.push(`a message shows the server's path: ${String(e.message)}`);
  }
  for (const r of received) {
    const bytes = Buffer.byteLength(JSON.stringify(r.header));
    if (bytes > MAX_SERVER_HEADER) violations.push(`a header of ${bytes} bytes, over 32 KiB`);
  }
  let at = 0;
  let answered = 0;
  for (const req of sent) {
    const first = received[at];
    if (first?.header.id !== req.id) {
      const id = first?.header.id;
      const earlier = sent.slice(0, answered).some((s) => s.id === id);
      const later = sent.slice(answered + 1).some((s) => s.id === id);
      if (earlier || later) {
        const what = earlier ? "answered twice" : `answered before ${req.label} (id ${req.id})`;
        violations.push(`id ${String(id)} ${what}: ${JSON.stringify(first?.header)}`);
        return { violations, committed, codes };
      }
      break;
    }
    const why = consume(req);
    if (why) {
      violations.push(`${req.label} (id ${req.id}): ${why}`);
      return { violations, committed, codes };
    }
    answered++;
  }

  /** Takes the frames of one answer; returns what is wrong with them, if anything. */
  function consume(req: Sent): string | undefined {
    const reply = (received[at++] as Received).header;
    const isError = reply.ok === false;
    if (req.victim && !isError) return `a cut request was answered ${JSON.stringify(reply)}`;
    switch (req.shape) {
      case "error":
      case "one":
        if (req.shape === "error" && !isError)
          return `a malformed request was answered ${JSON.stringify(reply)}`;
        return isError || reply.type === "ok" || reply.type === "entry"
          ? undefined
          : `unexpected ${JSON.stringify(reply)}`;
      case "put":
      case "hput": {
        let last = reply;
        if (req.shape === "hput" && reply.type === "ready") {
          const then = received[at++]?.header;
          if (then?.id !== req.id) return "ready, and then no answer";
          last = then;
        }
        if (last.ok === false) return undefined;
        if (last.type !== "done") return `unexpected ${JSON.stringify(last)}`;
        if (!req.mayCommit || !req.data)
          return `committed a put that is not whole and verified: ${JSON.stringify(last)}`;
        if (last.md5 !== md5(req.data) || last.size !== req.data.length)
          return `done does not describe the bytes sent`;
        committed.push(req.data);
        return undefined;
      }
      case "get": {
        if (isError) return undefined;
        if (reply.type !== "file") return `unexpected ${JSON.stringify(reply)}`;
        const data = received[at++];
        if (data?.header.cmd !== "data" || data.header.id !== req.id || !data.payload)
          return "file, and then no data frame";
        if (data.payload.length !== Number(reply.size) - Number(reply.offset))
          return "data frame of the wrong size";
        let hash = reply.md5;
        if (hash === undefined) {
          const end = received[at++]?.header;
          if (end?.id !== req.id) return "no end trailer after a file reply without md5";
          if (end.ok === false) return undefined; // ECHANGED in place of the trailer
          if (end.cmd !== "end") return `unexpected ${JSON.stringify(end)}`;
          hash = end.md5;
        }
        if (reply.offset === 0 && hash !== data.payload.md5)
          return "the bytes do not match the md5 sent with them";
        return undefined;
      }
      case "list":
        for (let r: Header | undefined = reply; ; r = received[at++]?.header) {
          if (r?.id !== req.id) return "a listing that never ended";
          if (r.ok === false) return undefined;
          if (r.type !== "entries") return `unexpected ${JSON.stringify(r)}`;
          if (r.more === false) return undefined;
        }
    }
  }

  const rest = received.slice(at);
  for (const r of rest) {
    const id = r.header.id;
    if (id === null) continue;
    const done = sent.slice(0, answered).some((s) => s.id === id);
    const what = done ? "answered twice" : "a frame for no request (or out of order)";
    violations.push(`id ${String(id)}: ${what}: ${JSON.stringify(r.header)}`);
  }
  const nullFrames = rest.filter((r) => r.header.id === null);
  if (nullFrames.length > 1 || (nullFrames.length === 1 && rest[rest.length - 1] !== nullFrames[0])) {
    violations.push("an id-null error that is not the last frame");
  }
  const unanswered = sent.slice(answered).filter((s) => !s.victim);
  if (unanswered.length > 0)
    violations.push(`no answer for ${unanswered.map((s) => `${s.label} (id ${s.id})`).join(", ")}`);
  const closing = nullFrames[0]?.header;
  if (terminal.kind === "fatal") {
    const code = FATAL_CODE[terminal.what];
    if (closing?.code !== code)
      violations.push(
        `${terminal.what}: expected a last frame ${code} with id null, got ${JSON.stringify(closing)}`,
      );
  } else if (closing) {
    violations.push(`an unexpected id-null error ${JSON.stringify(closing)}`);
  }
  return { violations, committed, codes };
}
