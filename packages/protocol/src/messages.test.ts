import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ERROR_CODES, type ErrorCode, FerryError } from "./errors.js";
import { encodeFrame } from "./frame/encoder.js";
import { fromChunks, splitAt } from "./frame/frames.test-helpers.js";
import { FrameReader } from "./frame/reader.js";
import { MAX_PATH_BYTES, MAX_SIZE } from "./limits.js";
import {
  COMMANDS,
  errorFromReply,
  errorReplyOf,
  type FileReply,
  type Parsed,
  type PutRequest,
  parseClientFrame,
  parseHello,
  parseServerFrame,
} from "./messages.js";
import { clientSamples, serverSamples } from "./messages.samples.test-helpers.js";

/** Sends headers (data frames with a payload) through the real encoder and decoder, returns the headers that arrive. */
async function overTheWire(headers: object[]): Promise<Record<string, unknown>[]> {
  const payloadOf = (h: object) => {
    const { cmd, size } = h as { cmd?: unknown; size?: unknown };
    return Buffer.alloc(cmd === "data" && typeof size === "number" ? size : 0);
  };
  const bytes = Buffer.concat(headers.flatMap((h) => [encodeFrame(h), payloadOf(h)]));
  const reader = new FrameReader(fromChunks(splitAt(bytes, [1, 7, 50, 51, 200])));
  const out: Record<string, unknown>[] = [];
  for (let frame = await reader.next(); frame; frame = await reader.next()) out.push(frame.header);
  return out;
}

function expectOk<T>(parsed: Parsed<T>): T {
  if (!parsed.ok) throw new Error(`rejected: ${parsed.error.code} ${parsed.error.message}`);
  return parsed.value;
}

function expectError<T>(parsed: Parsed<T>): { error: FerryError; id: number | null } {
  if (parsed.ok) throw new Error(`accepted: ${JSON.stringify(parsed.value)}`);
  expect(parsed.error).toBeInstanceOf(FerryError);
  return parsed;
}

describe("round trip: encodeFrame → FrameReader → parse", () => {
  it("carries every client message unchanged", async () => {
    const arrived = await overTheWire(clientSamples);
    expect(arrived.map((h) => expectOk(parseClientFrame(h)))).toEqual(clientSamples);
  });

  it("carries every server message unchanged", async () => {
    const arrived = await overTheWire(serverSamples);
    expect(arrived.map((h) => expectOk(parseServerFrame(h)))).toEqual(serverSamples);
  });

  it("has a sample of every command", () => {
    const sampled = new Set(clientSamples.map((m) => m.cmd));
    expect([...sampled].sort()).toEqual([...COMMANDS].sort());
  });

  it("has a sample of every reply type", () => {
    const types = new Set(serverSamples.map((m) => ("type" in m ? m.type : "ok" in m ? "error" : m.cmd)));
    expect([...types].sort()).toEqual(
      [
        "data",
        "df",
        "done",
        "end",
        "entries",
        "entry",
        "error",
        "file",
        "hello",
        "ok",
        "ready",
        "scram",
        "sum",
      ].sort(),
    );
  });

  it("carries an error reply of every code", async () => {
    const replies = (Object.keys(ERROR_CODES) as ErrorCode[]).map((code, i) =>
      errorReplyOf(i, new FerryError(code)),
    );
    const arrived = await overTheWire(replies);
    const parsed = arrived.map((h) => expectOk(parseServerFrame(h)));
    expect(parsed).toEqual(replies);
    for (const reply of parsed) {
      if (!("ok" in reply) || reply.ok !== false) throw new Error("expected an error reply");
      const err = errorFromReply(reply);
      expect(err).toBeInstanceOf(FerryError);
      expect(err.code).toBe(reply.code);
      expect(err.message).toBe(ERROR_CODES[reply.code]);
    }
  });

  it("lets data and end frames through parseServerFrame and parseClientFrame alike", () => {
    for (const frame of [
      { cmd: "data", id: 1, offset: 0, size: 5 },
      { cmd: "end", id: 1, md5: "5d41402abc4b2a76b9719d911017c592" },
    ]) {
      expect(expectOk(parseClientFrame(frame))).toEqual(frame);
      expect(expectOk(parseServerFrame(frame))).toEqual(frame);
    }
  });

  it("drops unknown fields (a newer peer's additions) and keeps the known ones", () => {
    expect(expectOk(parseClientFrame({ cmd: "bye", id: 1, future: { x: 1 } }))).toEqual({
      cmd: "bye",
      id: 1,
    });
    expect(expectOk(parseServerFrame({ ok: true, id: 1, type: "ok", extra: [1] }))).toEqual({
      ok: true,
      id: 1,
      type: "ok",
    });
  });

  it("turns -0 into 0", () => {
    const value = expectOk(parseClientFrame({ cmd: "data", id: -0, offset: -0, size: -0 }));
    expect(Object.is((value as { size: number }).size, 0)).toBe(true);
    expect(Object.is(value.id, 0)).toBe(true);
  });
});

type Case = [description: string, header: Record<string, unknown>, code: ErrorCode, field: string];

const put = { cmd: "put", id: 3, path: "a.txt", size: 10 };
const longPath = "a/".repeat(MAX_PATH_BYTES / 2); // 4096 bytes

const clientRejections: Case[] = [
  ["an unknown cmd", { cmd: "frobnicate", id: 1 }, "EPROTO", "cmd"],
  ["a missing cmd", { id: 1 }, "EPROTO", "cmd"],
  ["a cmd that is not a string", { cmd: 7, id: 1 }, "EPROTO", "cmd"],
  ["a cmd named after an Object.prototype member", { cmd: "constructor", id: 1 }, "EPROTO", "cmd"],
  ["a cmd named __proto__", JSON.parse('{"cmd":"__proto__","id":1}'), "EPROTO", "cmd"],
  ["a missing id", { cmd: "bye" }, "EPROTO", "id"],
  ["a negative id", { cmd: "bye", id: -1 }, "EPROTO", "id"],
  ["a fractional id", { cmd: "bye", id: 0.5 }, "EPROTO", "id"],
  ["a string id", { cmd: "bye", id: "1" }, "EPROTO", "id"],
  ["an id of 2^32", { cmd: "bye", id: 2 ** 32 }, "EPROTO", "id"],
  ["a null id", { cmd: "bye", id: null }, "EPROTO", "id"],
  ["hello version 0", { cmd: "hello", id: 0, version: 0, client: "x" }, "EPROTO", "version"],
  ["hello version as a string", { cmd: "hello", id: 0, version: "1", client: "x" }, "EPROTO", "version"],
  ["hello without client", { cmd: "hello", id: 0, version: 1 }, "EPROTO", "client"],
  ["hello client as a number", { cmd: "hello", id: 0, version: 1, client: 1 }, "EPROTO", "client"],
  ["auth hmac of 63 digits", { cmd: "auth", id: 1, hmac: "a".repeat(63) }, "EPROTO", "hmac"],
  ["auth hmac in upper case", { cmd: "auth", id: 1, hmac: "A".repeat(64) }, "EPROTO", "hmac"],
  ["auth hmac not hex", { cmd: "auth", id: 1, hmac: "g".repeat(64) }, "EPROTO", "hmac"],
  ["auth with neither hmac nor scram", { cmd: "auth", id: 1 }, "EPROTO", "hmac"],
  [
    "auth with both hmac and scram",
    { cmd: "auth", id: 1, hmac: "a".repeat(64), scram: "n,,n=u,r=x" },
    "EPROTO",
    "hmac",
  ],
  ["auth scram empty", { cmd: "auth", id: 1, scram: "" }, "EPROTO", "scram"],
  ["auth scram over 1024 characters", { cmd: "auth", id: 1, scram: "x".repeat(1025) }, "EPROTO", "scram"],
  ["auth scram with a newline", { cmd: "auth", id: 1, scram: "n,,n=u\n,r=x" }, "EPROTO", "scram"],
  ["a negative size", { ...put, size: -1 }, "EPROTO", "size"],
  ["a fractional size", { ...put, size: 10.5 }, "EPROTO", "size"],
  ["a size as a string", { ...put, size: "10" }, "EPROTO", "size"],
  ["a null size", { ...put, size: null }, "EPROTO", "size"],
  ["a missing size", { cmd: "put", id: 3, path: "a" }, "EPROTO", "size"],
  ["a size of 2^53", { ...put, size: MAX_SIZE + 1 }, "EPROTO", "size"],
  ["a size of 1e300", { ...put, size: 1e300 }, "EPROTO", "size"],
  ["a size of Infinity", { ...put, size: Number.POSITIVE_INFINITY }, "EPROTO", "size"],
  ["a size of NaN", { ...put, size: Number.NaN }, "EPROTO", "size"],
  ["an md5 in upper case", { ...put, md5: "9E107D9D372BB6826BD81D3542A419D6" }, "EPROTO", "md5"],
  ["an md5 of 31 digits", { ...put, md5: "9e107d9d372bb6826bd81d3542a419d" }, "EPROTO", "md5"],
  ["an md5 of 33 digits", { ...put, md5: "9e107d9d372bb6826bd81d3542a419d60" }, "EPROTO", "md5"],
  ["an md5 that is not hex", { ...put, md5: "z".repeat(32) }, "EPROTO", "md5"],
  ["an md5 with spaces", { ...put, md5: ` ${"a".repeat(30)} ` }, "EPROTO", "md5"],
  ["an md5 that is a number", { ...put, md5: 123 }, "EPROTO", "md5"],
  ["an md5 that is null", { ...put, md5: null }, "EPROTO", "md5"],
  ["an unknown alg", { ...put, alg: "sha1" }, "EALG", "alg"],
  ["an alg that is not a string", { ...put, alg: 5 }, "EPROTO", "alg"],
  ["an md5 with alg xxh128", { ...put, md5: "a".repeat(32), alg: "xxh128" }, "EPROTO", "md5"],
  ["a hash with alg md5", { ...put, md5: undefined, hash: "a".repeat(32) }, "EPROTO", "hash"],
  ["a short sha256", { ...put, md5: undefined, alg: "sha256", hash: "a".repeat(32) }, "EPROTO", "hash"],
  [
    "a hash that is not hex",
    { ...put, md5: undefined, alg: "xxh128", hash: "g".repeat(32) },
    "EPROTO",
    "hash",
  ],
  [
    "a resume get in xxh128 without prefixHash",
    { cmd: "get", id: 1, path: "a", offset: 5, alg: "xxh128", prefixMd5: "a".repeat(32) },
    "EPROTO",
    "prefixMd5",
  ],
  [
    "a resume get in xxh128 with no prefix at all",
    { cmd: "get", id: 1, path: "a", offset: 5, alg: "xxh128" },
    "EPROTO",
    "prefixHash",
  ],
  ["an end frame in sha256 without hash", { cmd: "end", id: 1, alg: "sha256" }, "EPROTO", "hash"],
  ["overwrite as a string", { ...put, overwrite: "true" }, "EPROTO", "overwrite"],
  ["parents as a number", { ...put, parents: 1 }, "EPROTO", "parents"],
  ["handshake as null", { ...put, handshake: null }, "EPROTO", "handshake"],
  ["a negative put mtime", { ...put, mtime: -1 }, "EPROTO", "mtime"],
  ["a fractional put mtime", { ...put, mtime: 1.5 }, "EPROTO", "mtime"],
  ["a put mtime as a string", { ...put, mtime: "1763942400000" }, "EPROTO", "mtime"],
  ["a sum without path", { cmd: "sum", id: 1 }, "EPROTO", "path"],
  ["a sum with an unknown alg", { cmd: "sum", id: 1, path: "a", alg: "blake3" }, "EALG", "alg"],
  ["an empty path", { ...put, path: "" }, "EBADPATH", "path"],
  ["a path with NUL", { ...put, path: "a\u0000b" }, "EBADPATH", "path"],
  ["a path of 4097 bytes", { ...put, path: `${longPath}x` }, "EBADPATH", "path"],
  ["a path of 4097 bytes in 2-byte characters", { ...put, path: `x${"é".repeat(2048)}` }, "EBADPATH", "path"],
  ["a path with a lone surrogate", { ...put, path: "a\ud800b" }, "EBADPATH", "path"],
  ["a path that is a number", { ...put, path: 5 }, "EPROTO", "path"],
  ["a path that is an array", { ...put, path: ["a"] }, "EPROTO", "path"],
  ["a missing path", { cmd: "stat", id: 1 }, "EPROTO", "path"],
  ["a negative get offset", { cmd: "get", id: 1, path: "a", offset: -1 }, "EPROTO", "offset"],
  ["a bad prefixMd5", { cmd: "get", id: 1, path: "a", offset: 1, prefixMd5: "x" }, "EPROTO", "prefixMd5"],
  ["a get offset without prefixMd5", { cmd: "get", id: 1, path: "a", offset: 5 }, "EPROTO", "prefixMd5"],
  ["mkdir parents as a string", { cmd: "mkdir", id: 1, path: "a", parents: "yes" }, "EPROTO", "parents"],
  ["delete recursive as a number", { cmd: "delete", id: 1, path: "a", recursive: 0 }, "EPROTO", "recursive"],
  ["rename from an empty path", { cmd: "rename", id: 1, from: "", to: "b" }, "EBADPATH", "from"],
  ["rename to a path with NUL", { cmd: "rename", id: 1, from: "a", to: "\u0000" }, "EBADPATH", "to"],
  ["rename without to", { cmd: "rename", id: 1, from: "a" }, "EPROTO", "to"],
  ["a data frame with a negative offset", { cmd: "data", id: 1, offset: -1, size: 0 }, "EPROTO", "offset"],
  ["a data frame without offset", { cmd: "data", id: 1, size: 0 }, "EPROTO", "offset"],
  ["a data frame with size 2^53", { cmd: "data", id: 1, offset: 0, size: 2 ** 53 }, "EPROTO", "size"],
  ["an end frame without md5", { cmd: "end", id: 1 }, "EPROTO", "md5"],
  ["an end frame with an unknown alg", { cmd: "end", id: 1, md5: "a".repeat(32), alg: "" }, "EALG", "alg"],
];

describe("parseClientFrame rejections", () => {
  it.each(clientRejections)("rejects %s", (_description, header, code, field) => {
    const { error } = expectError(parseClientFrame(header));
    expect(error.code).toBe(code);
    expect(error.details.field).toBe(field);
    expect(error.message).toContain(field);
  });

  it("accepts a path of exactly 4096 bytes, in 1- or 2-byte characters", () => {
    expect(expectOk(parseClientFrame({ ...put, path: longPath }))).toMatchObject({ path: longPath });
    const twoByte = "é".repeat(2048);
    expect(expectOk(parseClientFrame({ ...put, path: twoByte }))).toMatchObject({ path: twoByte });
  });

  it("accepts the limits of sizes and ids", () => {
    expect(expectOk(parseClientFrame({ ...put, size: MAX_SIZE }))).toMatchObject({ size: MAX_SIZE });
    expect(expectOk(parseClientFrame({ ...put, size: 0 }))).toMatchObject({ size: 0 });
    expect(expectOk(parseClientFrame({ cmd: "bye", id: 2 ** 32 - 1 }))).toEqual({
      cmd: "bye",
      id: 2 ** 32 - 1,
    });
  });

  it("returns the id of a rejected request when it is readable, else null", () => {
    expect(expectError(parseClientFrame({ ...put, size: -1 })).id).toBe(3);
    expect(expectError(parseClientFrame({ cmd: "nope", id: 9 })).id).toBe(9);
    expect(expectError(parseClientFrame({ cmd: "nope", id: "9" })).id).toBeNull();
    expect(expectError(parseClientFrame({ cmd: "nope", id: 2 ** 32 })).id).toBeNull();
    expect(expectError(parseClientFrame({ cmd: "bye" })).id).toBeNull();
  });

  it("keeps an error message short when it quotes a huge unknown cmd, so the reply still fits a header", () => {
    const { error, id } = expectError(parseClientFrame({ cmd: "x".repeat(60_000), id: 1 }));
    expect(error.code).toBe("EPROTO");
    expect(error.message.length).toBeLessThan(200);
    expect(() => encodeFrame(errorReplyOf(id, error))).not.toThrow();
  });
});

const serverRejections: Case[] = [
  ["an unknown reply type", { ok: true, id: 1, type: "mystery" }, "EPROTO", "type"],
  ["a reply without ok", { id: 1, type: "ok" }, "EPROTO", "ok"],
  ["ok as a string", { ok: "true", id: 1, type: "ok" }, "EPROTO", "ok"],
  ["a reply with a bad id", { ok: true, id: -1, type: "ok" }, "EPROTO", "id"],
  ["hello without auth", { ok: true, id: 0, type: "hello", version: 1, server: "s" }, "EPROTO", "auth"],
  [
    "hello with an unknown auth mechanism",
    { ok: true, id: 0, type: "hello", version: 1, server: "s", auth: "scram-sha-1" },
    "EPROTO",
    "auth",
  ],
  ["scram without its message", { ok: true, id: 1, type: "scram" }, "EPROTO", "scram"],
  [
    "hello with a short challenge",
    { ok: true, id: 0, type: "hello", version: 1, server: "s", auth: true, challenge: "abc" },
    "EPROTO",
    "challenge",
  ],
  ["ready without offset", { ok: true, id: 1, type: "ready" }, "EPROTO", "offset"],
  [
    "ready with an offset but no prefixMd5",
    { ok: true, id: 1, type: "ready", offset: 9 },
    "EPROTO",
    "prefixMd5",
  ],
  [
    "hello with auth but no challenge",
    { ok: true, id: 0, type: "hello", version: 1, server: "s", auth: true },
    "EPROTO",
    "challenge",
  ],
  ["done without md5", { ok: true, id: 1, type: "done", size: 1 }, "EPROTO", "md5"],
  [
    "file with a negative mtime",
    { ok: true, id: 1, type: "file", size: 1, mtime: -1, offset: 0 },
    "EPROTO",
    "mtime",
  ],
  ["sum without md5", { ok: true, id: 1, type: "sum", size: 1, mtime: 0 }, "EPROTO", "md5"],
  ["sum without mtime", { ok: true, id: 1, type: "sum", size: 1, md5: "a".repeat(32) }, "EPROTO", "mtime"],
  [
    "entries that are not an array",
    { ok: true, id: 1, type: "entries", entries: {}, more: false },
    "EPROTO",
    "entries",
  ],
  ["entries without more", { ok: true, id: 1, type: "entries", entries: [] }, "EPROTO", "more"],
  [
    "an entry with a bad size",
    {
      ok: true,
      id: 1,
      type: "entries",
      more: false,
      entries: [
        { name: "a", type: "file", size: 1, mtime: 0 },
        { name: "b", type: "file", size: -1, mtime: 0 },
      ],
    },
    "EPROTO",
    "entries[1].size",
  ],
  [
    "an entry with an empty name",
    { ok: true, id: 1, type: "entry", entry: { name: "", type: "file", size: 0, mtime: 0 } },
    "EPROTO",
    "entry.name",
  ],
  [
    "an entry with a 256-byte name",
    { ok: true, id: 1, type: "entry", entry: { name: "n".repeat(256), type: "file", size: 0, mtime: 0 } },
    "EPROTO",
    "entry.name",
  ],
  [
    "an entry of an unknown type",
    { ok: true, id: 1, type: "entry", entry: { name: "s", type: "socket", size: 0, mtime: 0 } },
    "EPROTO",
    "entry.type",
  ],
  ["an entry that is null", { ok: true, id: 1, type: "entry", entry: null }, "EPROTO", "entry"],
  ["an error reply with a bad id", { ok: false, id: "7", code: "ENOENT", message: "m" }, "EPROTO", "id"],
  ["an error reply without message", { ok: false, id: 7, code: "ENOENT" }, "EPROTO", "message"],
  ["an error reply with a numeric code", { ok: false, id: 7, code: 2, message: "m" }, "EPROTO", "code"],
  ["a data frame without size", { cmd: "data", id: 1, offset: 0 }, "EPROTO", "size"],
];

describe("parseHello", () => {
  it("answers EVERSION for any version but 1, before looking at another field", () => {
    for (const header of [
      { cmd: "hello", id: 4, version: 2 },
      { cmd: "hello", id: 4, version: 2, client: 7 },
      { cmd: "hello", id: 4, version: "1", client: "x" },
      { cmd: "hello", id: 4, client: "x" },
    ]) {
      const { error, id } = expectError(parseHello(header));
      expect(error.code).toBe("EVERSION");
      expect(id).toBe(4);
    }
    expect(expectError(parseHello({ cmd: "hello", version: 9 })).id).toBeNull();
  });

  it("validates a version-1 hello, and anything else, like parseClientFrame", () => {
    expect(expectOk(parseHello(clientSamples[0] as Record<string, unknown>))).toEqual(clientSamples[0]);
    expect(expectError(parseHello({ cmd: "hello", id: 1, version: 1 })).error.code).toBe("EPROTO");
    expect(expectOk(parseHello({ cmd: "bye", id: 1 }))).toEqual({ cmd: "bye", id: 1 });
  });
});

describe("parseServerFrame rejections", () => {
  it.each(serverRejections)("rejects %s", (_description, header, code, field) => {
    const { error } = expectError(parseServerFrame(header));
    expect(error.code).toBe(code);
    expect(error.details.field).toBe(field);
  });

  it("turns an unknown error code into EINTERNAL, keeping the message", () => {
    const reply = expectOk(parseServerFrame({ ok: false, id: 3, code: "EWHATEVER", message: "new in v2" }));
    expect(reply).toEqual({ ok: false, id: 3, code: "EINTERNAL", message: "new in v2" });
  });

  it("accepts an entry name of exactly 255 bytes", () => {
    const name = "é".repeat(127) + "n";
    const reply = { ok: true, id: 1, type: "entry", entry: { name, type: "file", size: 0, mtime: 0 } };
    expect(expectOk(parseServerFrame(reply))).toEqual(reply);
  });
});

describe("errorReplyOf / errorFromReply", () => {
  it("builds the wire form of a FerryError and back", () => {
    const reply = errorReplyOf(4, new FerryError("EEXIST", "a.txt exists"));
    expect(reply).toEqual({ ok: false, id: 4, code: "EEXIST", message: "a.txt exists" });
    const err = errorFromReply(reply);
    expect(err.code).toBe("EEXIST");
    expect(err.message).toBe("a.txt exists");
  });

  it("cuts a very long message so the reply fits the default header limit", () => {
    const reply = errorReplyOf(null, new FerryError("EINTERNAL", "\u0001".repeat(100_000)));
    expect(reply.message.length).toBeLessThan(2000);
    expect(() => encodeFrame(reply)).not.toThrow();
  });
});

describe("validation never throws (property)", () => {
  const anyHeader = fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 8 });

  it("parseClientFrame and parseServerFrame return a result for any JSON object", () => {
    fc.assert(
      fc.property(anyHeader, (header) => {
        for (const parse of [parseClientFrame, parseServerFrame]) {
          const result = parse(header as Record<string, unknown>);
          if (!result.ok) expect(["EPROTO", "EBADPATH"]).toContain(result.error.code);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("a well-formed message with one field replaced by any JSON value parses or fails with a code", () => {
    const samples = [...clientSamples, ...serverSamples] as unknown as Record<string, unknown>[];
    fc.assert(
      fc.property(
        fc.constantFrom(...samples),
        fc.nat(),
        fc.jsonValue(),
        fc.constantFrom(parseClientFrame, parseServerFrame),
        (sample, which, value, parse) => {
          const keys = Object.keys(sample);
          const key = keys[which % keys.length] ?? "id";
          const result = parse({ ...sample, [key]: value });
          if (!result.ok) {
            // EALG: a string alg this version does not know (PROTOCOL.md §1.2).
            expect(key === "alg" ? ["EPROTO", "EALG"] : ["EPROTO", "EBADPATH"]).toContain(result.error.code);
            expect(result.error).toBeInstanceOf(FerryError);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });

  it("arrives intact for any valid path (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc
          .string({ unit: "grapheme", minLength: 1, maxLength: 200 })
          .filter((p) => !p.includes("\u0000") && Buffer.byteLength(p) <= MAX_PATH_BYTES),
        async (path) => {
          const [header] = await overTheWire([{ cmd: "stat", id: 1, path }]);
          expect(expectOk(parseClientFrame(header ?? {}))).toEqual({ cmd: "stat", id: 1, path });
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("message types", () => {
  it("let literals omit optional fields but not required ones", () => {
    const put: PutRequest = { cmd: "put", id: 1, path: "a", size: 1 };
    const md5: string | undefined = put.md5;
    // @ts-expect-error size is required
    const missing: PutRequest = { cmd: "put", id: 1, path: "a" };
    const file: FileReply = { ok: true, id: 1, type: "file", size: 1, mtime: 0, offset: 0 };
    expect([put, md5, missing, file]).toHaveLength(4);
  });
});
