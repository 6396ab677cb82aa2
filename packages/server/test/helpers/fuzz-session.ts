import { createHash } from "node:crypto";
import { encodeFrame } from "@ferry/protocol";
import type { FatalKind, Md5Mode, Step, Terminal } from "./fuzz-steps.js";
import { type Header, md5, RawClient } from "./raw-client.js";

/**
 * Plays one connection of the session fuzz and checks the answers against PROTOCOL.md §5: every
 * request is answered exactly once and in order, unless the connection ends first, and then only
 * where §5.1 says, with an id-null frame where it says so.
 */

/** How long one connection may take before the run counts as hung. A bound, not a measurement. */
const CONNECTION_DEADLINE_MS = 30_000;
/** Ids of data/end frames that belong to no transfer: far from the request counter. */
const ORPHAN_ID = 2 ** 31;
/** No header from the server is larger (PROTOCOL.md §1). */
const MAX_SERVER_HEADER = 32 * 1024;

/** What the client expects for one request id. */
interface Sent {
  id: number;
  shape: "put" | "hput" | "get" | "list" | "one" | "error";
  /** A cut or lied-about request: it may go unanswered, and is never a success. */
  victim: boolean;
  /** For puts: the bytes the file must hold if `done`, and whether `done` is allowed at all. */
  data?: Buffer;
  mayCommit?: boolean;
  label: string;
}

interface Received {
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

function lengthPrefix(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

function rawHeader(body: string | Buffer): Buffer {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body);
  return Buffer.concat([lengthPrefix(bytes.length), bytes]);
}

const FATAL: Record<FatalKind, { bytes: Buffer; code: string }> = {
  prefixHuge: { bytes: lengthPrefix(0xffffffff), code: "ETOOBIG" },
  prefixOver: { bytes: lengthPrefix(64 * 1024 + 1), code: "ETOOBIG" },
  zeroLength: { bytes: lengthPrefix(0), code: "EPROTO" },
  notJson: { bytes: rawHeader("not json"), code: "EPROTO" },
  array: { bytes: rawHeader("[1,2]"), code: "EPROTO" },
  badUtf8: { bytes: rawHeader(Buffer.from([0x7b, 0xff, 0xfe, 0x7d])), code: "EPROTO" },
  negativeDataSize: { bytes: rawHeader('{"cmd":"data","id":1,"offset":0,"size":-5}'), code: "EPROTO" },
  idNotANumber: { bytes: rawHeader('{"cmd":"stat","id":"seven","path":"/"}'), code: "EPROTO" },
  noId: { bytes: rawHeader('{"cmd":"stat","path":"/"}'), code: "EPROTO" },
};

const wrong = (data: Buffer) => md5(Buffer.concat([data, Buffer.from("!")]));

function putHeader(id: number, path: string, data: Buffer, mode: Md5Mode, extra: Header): Header {
  const h: Header = { cmd: "put", id, path, size: data.length, ...extra };
  if (mode === "up") h.md5 = md5(data);
  if (mode === "wrongUp") h.md5 = wrong(data);
  return h;
}

function dataFrame(id: number, offset: number, bytes: Buffer, declared = bytes.length): Buffer {
  return Buffer.concat([encodeFrame({ cmd: "data", id, offset, size: declared }), bytes]);
}

function trailer(id: number, data: Buffer, mode: Md5Mode): Buffer {
  if (mode === "trailer") return encodeFrame({ cmd: "end", id, md5: md5(data) });
  if (mode === "wrongTrailer") return encodeFrame({ cmd: "end", id, md5: wrong(data) });
  return Buffer.alloc(0);
}

/** Plays `steps` then `terminal` on a fresh connection and checks what comes back. */
export async function playConnection(
  port: number,
  /** The server's root on disk, which no message may show. */
  hidden: string,
  blobs: readonly Buffer[],
  steps: readonly Step[],
  terminal: Terminal,
): Promise<ConnectionResult> {
  const c = await RawClient.ready(port);
  const received: Received[] = [];
  const waiting = new Map<number, (h: Header | null) => void>();
  const reading = (async () => {
    for (let f = await c.frame(); f; f = await c.frame()) {
      const r: Received = { header: f.header };
      if (f.header.cmd === "data") {
        const hash = createHash("md5");
        let length = 0;
        for await (const chunk of f.payload) {
          hash.update(chunk);
          length += chunk.length;
        }
        r.payload = { md5: hash.digest("hex"), length };
      }
      received.push(r);
      const id = f.header.id;
      if (typeof id === "number") {
        waiting.get(id)?.(f.header);
        waiting.delete(id);
      }
    }
    for (const wake of waiting.values()) wake(null);
    waiting.clear();
  })();
  const firstAnswer = (id: number) =>
    new Promise<Header | null>((resolve) => {
      const seen = received.find((r) => r.header.id === id);
      if (seen) resolve(seen.header);
      else waiting.set(id, resolve);
    });
  const write = async (bytes: Buffer) => {
    if (c.socket.destroyed) return;
    if (!c.socket.write(bytes))
      await new Promise<void>((resolve) => c.socket.once("drain", resolve).once("close", resolve));
  };

  const sent: Sent[] = [];
  let nextId = 100;
  const play = async () => {
    for (let i = 0; i < steps.length; i++) {
      const step = steps[i] as Step;
      const id = nextId++;
      await playStep(step, id);
      // A put left waiting for its data must meet another frame, or the end of the stream would
      // be a lost connection rather than a protocol error (it could then go unanswered).
      const waitsForData =
        (step.kind === "put" && step.send === "none") || (step.kind === "hugePut" && !step.handshake);
      if (waitsForData && i === steps.length - 1) await playStep({ kind: "stat", path: "/" }, nextId++);
    }
    await playTerminal(nextId++);
    c.socket.end();
  };

  const playStep = async (step: Step, id: number) => {
    switch (step.kind) {
      case "put": {
        const data = blobs[step.blob] as Buffer;
        const size = Math.max(0, data.length + step.sizeDelta);
        const h = putHeader(id, step.path, data, step.md5, {
          size,
          overwrite: step.overwrite,
          parents: step.parents,
        });
        const exact = size === data.length && !step.md5.startsWith("wrong") && step.send === "all";
        sent.push({
          id,
          shape: "put",
          victim: false,
          data,
          mayCommit: exact,
          label: `put ${JSON.stringify(step.path)}`,
        });
        const parts = [encodeFrame(h)];
        if (step.send === "all") parts.push(dataFrame(id, 0, data), trailer(id, data, step.md5));
        await write(Buffer.concat(parts));
        return;
      }
      case "hput": {
        const data = blobs[step.blob] as Buffer;
        const size = Math.max(0, data.length + step.sizeDelta);
        const h = putHeader(id, step.path, data, step.md5, {
          size,
          overwrite: step.overwrite,
          parents: step.parents,
          handshake: true,
        });
        const exact = size === data.length && !step.md5.startsWith("wrong") && step.resume !== "bad";
        sent.push({
          id,
          shape: "hput",
          victim: false,
          data,
          mayCommit: exact,
          label: `hput ${JSON.stringify(step.path)}`,
        });
        await write(encodeFrame(h));
        const ready = await firstAnswer(id);
        if (ready?.ok !== true || ready.type !== "ready") return;
        const offered = Number(ready.offset);
        let offset = 0;
        if (step.resume === "offered" && offered > 0 && ready.prefixMd5 === md5(data.subarray(0, offered)))
          offset = offered;
        if (step.resume === "bad") offset = offered === 1 ? 2 : 1;
        await write(
          Buffer.concat([dataFrame(id, offset, data.subarray(offset)), trailer(id, data, step.md5)]),
        );
        return;
      }
      case "hugePut": {
        const h = {
          cmd: "put",
          id,
          path: step.path,
          size: step.size,
          md5: "0".repeat(32),
          handshake: step.handshake,
        };
        sent.push({
          id,
          shape: step.handshake ? "hput" : "put",
          victim: false,
          mayCommit: false,
          label: "huge put",
        });
        await write(encodeFrame(h));
        if (!step.handshake) return;
        const ready = await firstAnswer(id);
        if (ready?.ok === true && ready.type === "ready") await write(dataFrame(id, 0, Buffer.alloc(0)));
        return;
      }
      case "get": {
        const h: Header = { cmd: "get", id, path: step.path };
        if (step.resume === "wrongPrefix") Object.assign(h, { offset: 2, prefixMd5: "0".repeat(32) });
        sent.push({ id, shape: "get", victim: false, label: `get ${JSON.stringify(step.path)}` });
        await write(encodeFrame(h));
        return;
      }
      case "list":
        sent.push({ id, shape: "list", victim: false, label: `list ${JSON.stringify(step.path)}` });
        await write(encodeFrame({ cmd: "list", id, path: step.path }));
        return;
      case "stat":
      case "mkdir":
      case "delete":
      case "rename": {
        const { kind, ...fields } = step;
        sent.push({ id, shape: "one", victim: false, label: kind });
        await write(encodeFrame({ cmd: kind, id, ...fields }));
        return;
      }
      case "bad":
        sent.push({ id, shape: "error", victim: false, label: `bad ${JSON.stringify(step.header)}` });
        await write(encodeFrame({ ...step.header, id }));
        return;
      case "orphan": {
        const oid = ORPHAN_ID + id;
        const frame =
          step.cmd === "data"
            ? dataFrame(oid, 0, Buffer.alloc(step.size, 7))
            : encodeFrame({ cmd: "end", id: oid, md5: "0".repeat(32) });
        await write(frame);
        return;
      }
      case "malformedPutFrame": {
        const data = blobs[step.blob] as Buffer;
        sent.push({
          id,
          shape: "put",
          victim: false,
          data,
          mayCommit: false,
          label: `put with a malformed ${step.which}`,
        });
        if (step.which === "data") {
          const bad = rawHeader(JSON.stringify({ cmd: "data", id, offset: "zero", size: data.length }));
          await write(Buffer.concat([encodeFrame(putHeader(id, step.path, data, "up", {})), bad, data]));
        } else {
          const bad = encodeFrame({ cmd: "end", id, md5: md5(data).toUpperCase() });
          await write(
            Buffer.concat([
              encodeFrame(putHeader(id, step.path, data, "trailer", {})),
              dataFrame(id, 0, data),
              bad,
            ]),
          );
        }
        return;
      }
      case "malformedOrphan": {
        const oid = ORPHAN_ID + id;
        const bytes =
          step.which === "data"
            ? Buffer.concat([
                rawHeader(JSON.stringify({ cmd: "data", id: oid, offset: -1, size: 3 })),
                Buffer.from("abc"),
              ])
            : encodeFrame({ cmd: "end", id: oid, md5: 5 });
        await write(bytes);
        return;
      }
    }
  };

  const playTerminal = async (id: number) => {
    switch (terminal.kind) {
      case "none":
        return;
      case "bye":
        sent.push({ id, shape: "one", victim: false, label: "bye" });
        await write(encodeFrame({ cmd: "bye", id }));
        return;
      case "fatal":
        await write(FATAL[terminal.what].bytes);
        return;
      case "cut": {
        const data = blobs[terminal.blob] as Buffer;
        const headers =
          terminal.victim === "put"
            ? Buffer.concat([
                encodeFrame(putHeader(id, terminal.path, data, "up", {})),
                encodeFrame({ cmd: "data", id, offset: 0, size: data.length }),
              ])
            : encodeFrame({ cmd: "get", id, path: terminal.path });
        const whole = terminal.victim === "put" ? Buffer.concat([headers, data]) : headers;
        const inPayload = terminal.at >= 0.3 && whole.length > headers.length;
        const at = inPayload
          ? headers.length + Math.floor(((terminal.at - 0.3) / 0.7) * (whole.length - headers.length))
          : Math.min(whole.length - 1, Math.max(1, Math.floor((terminal.at / 0.3) * headers.length)));
        sent.push({
          id,
          shape: terminal.victim,
          victim: true,
          mayCommit: false,
          label: `cut ${terminal.victim}`,
        });
        await write(whole.subarray(0, at));
        return;
      }
      case "lie": {
        const data = blobs[terminal.blob] as Buffer;
        const declared = data.length + terminal.extra;
        if (terminal.victim === "orphan") {
          await write(dataFrame(ORPHAN_ID + id, 0, data, declared));
          return;
        }
        const size = terminal.victim === "putDeclared" ? declared : data.length;
        const h = { cmd: "put", id, path: terminal.path, size };
        sent.push({
          id,
          shape: "put",
          victim: true,
          mayCommit: false,
          label: `put lying about its data (${terminal.victim})`,
        });
        await write(Buffer.concat([encodeFrame(h), dataFrame(id, 0, data, declared)]));
        return;
      }
    }
  };

  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<"hung">((resolve) => {
    timer = setTimeout(() => resolve("hung"), CONNECTION_DEADLINE_MS);
  });
  const outcome = await Promise.race([
    Promise.all([play(), reading, c.closed]).then(() => "ended" as const),
    deadline,
  ]);
  clearTimeout(timer);
  if (outcome === "hung") {
    c.close();
    return {
      violations: [
        `the connection did not end within ${CONNECTION_DEADLINE_MS} ms (${received.length} frames received)`,
      ],
      committed: [],
      codes: [],
    };
  }
  return judge(received, sent, terminal, hidden);
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
  const late = rest.filter((r) => r.header.id !== null);
  if (late.length > 0) {
    const ids = late.map((r) => r.header.id);
    violations.push(
      `frames for ids ${JSON.stringify(ids)} after answer ${answered} of ${sent.length} (out of order, twice, or for no request)`,
    );
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
    const code = FATAL[terminal.what].code;
    if (closing?.code !== code)
      violations.push(
        `${terminal.what}: expected a last frame ${code} with id null, got ${JSON.stringify(closing)}`,
      );
  } else if (closing) {
    violations.push(`an unexpected id-null error ${JSON.stringify(closing)}`);
  }
  return { violations, committed, codes };
}
