import { createHash } from "node:crypto";
import { encodeFrame } from "@ferry/protocol";
import { type ConnectionResult, judge, type Received, type Sent } from "./fuzz-judge.js";
import type { FatalKind, Md5Mode, Step, Terminal } from "./fuzz-steps.js";
import { type Header, md5, RawClient } from "./raw-client.js";

/** Plays one connection of the session fuzz; fuzz-judge.ts checks what came back. */

/** How long one connection may take before the run counts as hung. A bound, not a measurement. */
const CONNECTION_DEADLINE_MS = 30_000;
/** Ids of data/end frames that belong to no transfer: far from the request counter. */
const ORPHAN_ID = 2 ** 31;

function lengthPrefix(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

function rawHeader(body: string | Buffer): Buffer {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body);
  return Buffer.concat([lengthPrefix(bytes.length), bytes]);
}

/** The bytes of each fatal terminal; fuzz-judge.ts knows the code each must end with. */
const FATAL: Record<FatalKind, Buffer> = {
  prefixHuge: lengthPrefix(0xffffffff),
  prefixOver: lengthPrefix(64 * 1024 + 1),
  zeroLength: lengthPrefix(0),
  notJson: rawHeader("not json"),
  array: rawHeader("[1,2]"),
  badUtf8: rawHeader(Buffer.from([0x7b, 0xff, 0xfe, 0x7d])),
  negativeDataSize: rawHeader('{"cmd":"data","id":1,"offset":0,"size":-5}'),
  idNotANumber: rawHeader('{"cmd":"stat","id":"seven","path":"/"}'),
  noId: rawHeader('{"cmd":"stat","path":"/"}'),
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
        await write(FATAL[terminal.what]);
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
