import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ERROR_CODES } from "./errors.js";
import { fingerprintHex } from "./fingerprint.js";
import { encodeFrame } from "./frame/encoder.js";
import { parseChunks } from "./frame/frames.test-helpers.js";
import { authAnswer } from "./hash.js";
import {
  DEFAULT_MAX_HEADER_BYTES,
  DEFAULT_PORT,
  MAX_PATH_BYTES,
  MAX_SIZE,
  PROTOCOL_VERSION,
} from "./limits.js";
import { COMMANDS, parseClientFrame, parseServerFrame } from "./messages.js";
import { clientSamples, serverSamples } from "./messages.samples.test-helpers.js";
import {
  checkClientFinal,
  makeVerifier,
  parseClientFirst,
  SCRAM_MIN_ITERATIONS,
  ScramClient,
  serverFirstMessage,
} from "./scram.js";

const doc = readFileSync(new URL("../PROTOCOL.md", import.meta.url), "utf8");

/** Every JSON object in the ```json blocks; a block holds one object, or one object per line. */
function jsonExamples(): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const [, body = ""] of doc.matchAll(/```json\n([\s\S]*?)```/g)) {
    try {
      out.push(JSON.parse(body));
    } catch {
      for (const line of body.split("\n").filter((l) => l.trim())) out.push(JSON.parse(line));
    }
  }
  return out;
}

/** The frames of the whole-session transcript (§11): direction, header and the raw payload text. */
function transcript(): { from: "C" | "S"; header: Record<string, unknown>; rest: string }[] {
  const section = doc.slice(doc.indexOf("## 11."));
  const block = /```\n([\s\S]*?)```/.exec(section)?.[1] ?? "";
  return block
    .split("\n")
    .filter((l) => /^[CS]: /.test(l))
    .map((line) => {
      const end = line.lastIndexOf("}");
      return {
        from: line[0] as "C" | "S",
        header: JSON.parse(line.slice(3, end + 1)),
        rest:
          line
            .slice(end + 1)
            .split("←")[0]
            ?.trim() ?? "",
      };
    });
}

interface FieldRow {
  field: string;
  /** `yes`, `no`, or a condition under which the field is required. */
  required: string;
}

function cells(line: string): string[] {
  return line
    .split("|")
    .slice(1, -1)
    .map((c) => c.trim());
}

/** The field tables: a line such as "Request `put`:" (or Reply, Frame, Object), then its table. */
function fieldTables(): Map<string, FieldRow[]> {
  const tables = new Map<string, FieldRow[]>();
  const lines = doc.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const m = /^(Request|Reply|Frame|Object) `(\w+)`:$/.exec(lines[i] ?? "");
    if (!m) continue;
    let j = i + 1;
    while (lines[j]?.trim() === "") j++;
    expect(cells(lines[j] ?? "").slice(0, 3), `table of ${m[0]}`).toEqual(["field", "type", "required"]);
    const rows: FieldRow[] = [];
    for (j += 2; lines[j]?.startsWith("|"); j++) {
      const [field = "", , required = ""] = cells(lines[j] ?? "");
      rows.push({ field: field.replace(/`/g, ""), required });
    }
    const key = `${m[1]?.toLowerCase()} ${m[2]}`;
    expect(tables.has(key), `${key} has one table`).toBe(false);
    tables.set(key, rows);
  }
  return tables;
}

type Header = Record<string, unknown>;

/** The sample with the most fields, and the union of the fields of all samples. */
function fullest(samples: Header[]): { full: Header; fields: Set<string> } {
  const full = samples.reduce((a, b) => (Object.keys(b).length > Object.keys(a).length ? b : a));
  return { full, fields: new Set(samples.flatMap((h) => Object.keys(h))) };
}

/**
 * The sample to take a field away from: a field required only for md5, or only for another `alg`
 * (§1.2), is taken from the fullest sample where that condition holds.
 */
function baseFor(required: string, samples: Header[], full: Header): Header {
  const md5 = (h: Header) => h.alg === undefined || h.alg === "md5";
  const pick = required.includes("`alg` is not md5")
    ? samples.filter((h) => !md5(h))
    : required.includes("`alg` is md5")
      ? samples.filter(md5)
      : [];
  return pick.length > 0 ? fullest(pick).full : full;
}

function cmdSamples(cmd: string): Header[] {
  return clientSamples.filter((h) => h.cmd === cmd) as Header[];
}

function without(header: Header, field: string): Header {
  const copy = { ...header };
  delete copy[field];
  return copy;
}

function check(header: Record<string, unknown>, parse: typeof parseClientFrame | typeof parseServerFrame) {
  const parsed = parse(header);
  if (!parsed.ok) throw new Error(`${JSON.stringify(header)}: ${parsed.error.code} ${parsed.error.message}`);
  // Every field of the example is one the code knows (nothing silently dropped).
  expect(parsed.value).toEqual(header);
}

describe("PROTOCOL.md", () => {
  it("has JSON examples that all pass validation unchanged", () => {
    const examples = jsonExamples();
    expect(examples.length).toBeGreaterThan(15);
    for (const header of examples) {
      const isReply = "ok" in header;
      const bothWays = header.cmd === "data" || header.cmd === "end";
      if (isReply || bothWays) check(header, parseServerFrame);
      if (!isReply || bothWays) check(header, parseClientFrame);
      // And they fit in a frame as they are.
      expect(parseChunks([encodeFrame(header)]).frames[0]?.header).toEqual(header);
    }
  });

  it("shows an example of every command and reply type", () => {
    const examples = jsonExamples();
    const cmds = new Set(examples.map((e) => e.cmd).filter(Boolean));
    const types = new Set(examples.map((e) => e.type).filter(Boolean));
    for (const cmd of [
      "hello",
      "auth",
      "put",
      "get",
      "list",
      "sum",
      "stat",
      "mkdir",
      "delete",
      "rename",
      "df",
      "bye",
      "data",
      "end",
    ]) {
      expect(cmds).toContain(cmd);
    }
    for (const type of ["hello", "scram", "ready", "done", "file", "entries", "entry", "df", "sum"]) {
      expect(types).toContain(type);
    }
    expect(examples.some((e) => e.ok === false)).toBe(true);
  });

  it("has a session transcript whose frames all validate, with the right auth answer and md5", () => {
    const frames = transcript();
    expect(frames.length).toBeGreaterThan(10);
    for (const { from, header } of frames) check(header, from === "C" ? parseClientFrame : parseServerFrame);
    const hello = frames.find((f) => f.header.type === "hello")?.header;
    const auth = frames.find((f) => f.header.cmd === "auth")?.header;
    expect(auth?.hmac).toBe(authAnswer("s3cret", String(hello?.challenge)));
    for (const { header, rest } of frames) {
      if (header.cmd === "data") expect(Buffer.byteLength(rest)).toBe(header.size);
      if (header.md5 !== undefined) expect(header.md5).toBe(createHash("md5").update("hello").digest("hex"));
    }
  });

  it("gives the auth example as the answer for the secret s3cret", () => {
    const examples = jsonExamples();
    const hello = examples.find((e) => e.type === "hello");
    const auth = examples.find((e) => e.cmd === "auth");
    expect(auth?.hmac).toBe(authAnswer("s3cret", String(hello?.challenge)));
  });

  it("gives RFC 7677's SCRAM exchange, which the client and server code reproduce from the password", async () => {
    const examples = jsonExamples();
    const [clientFirst, clientFinal] = examples
      .filter((e) => e.cmd === "auth" && "scram" in e)
      .map((e) => String(e.scram));
    const [serverFirst, serverFinal] = examples.filter((e) => e.type === "scram").map((e) => String(e.scram));
    const nonce = /r=([^,]+)$/.exec(String(clientFirst))?.[1];
    const client = new ScramClient("user", "pencil", null, nonce);
    expect(client.first).toBe(clientFirst);
    expect(await client.final(String(serverFirst))).toBe(clientFinal);
    client.verifyServer(String(serverFinal));
    const salt = Buffer.from(/s=([^,]+)/.exec(String(serverFirst))?.[1] ?? "", "base64");
    const verifier = await makeVerifier("pencil", SCRAM_MIN_ITERATIONS, salt);
    const first = parseClientFirst(String(clientFirst), null);
    const serverNonce = /^r=([^,]+)/.exec(String(serverFirst))?.[1]?.slice(String(nonce).length);
    expect(serverFirstMessage(first, verifier, serverNonce)).toBe(serverFirst);
    expect(checkClientFinal(first, String(serverFirst), String(clientFinal), verifier, null)).toEqual({
      ok: true,
      serverFinal,
    });
  });

  it("states the limits the code enforces", () => {
    expect(doc).toContain(`version ${PROTOCOL_VERSION}`);
    expect(doc).toContain(`${DEFAULT_MAX_HEADER_BYTES} bytes`);
    expect(doc).toContain(String(MAX_SIZE));
    expect(doc).toContain(`${MAX_PATH_BYTES} UTF-8`);
    expect(doc).toContain(`default port ${DEFAULT_PORT}`);
  });

  it("has a field table for every message, and nothing else", () => {
    const replyTypes = new Set(serverSamples.map((h) => ("type" in h ? String(h.type) : "")).filter(Boolean));
    const expected = [
      ...COMMANDS.map((c) => (c === "data" || c === "end" ? `frame ${c}` : `request ${c}`)),
      ...[...replyTypes].map((t) => `reply ${t}`),
      "reply error",
      "object entry",
    ];
    expect([...fieldTables().keys()].sort()).toEqual(expected.sort());
  });

  it("marks each request's fields as the validator checks them: the same fields, required as marked, in order", () => {
    const tables = fieldTables();
    for (const cmd of COMMANDS) {
      const rows = tables.get(cmd === "data" || cmd === "end" ? `frame ${cmd}` : `request ${cmd}`) ?? [];
      const { full, fields } = fullest(clientSamples.filter((h) => h.cmd === cmd) as Header[]);
      expect(new Set(rows.map((r) => r.field)), cmd).toEqual(fields);
      for (const { field, required } of rows) {
        const parsed = parseClientFrame(without(baseFor(required, cmdSamples(cmd), full), field));
        if (required === "no") expect(parsed.ok, `${cmd}.${field} is optional`).toBe(true);
        else {
          expect(parsed.ok, `${cmd}.${field} is required (${required})`).toBe(false);
          if (!parsed.ok) expect(parsed.error.details.field).toBe(field);
        }
      }
      // Of two bad fields, the one earlier in the table is the one reported.
      const named = rows.map((r) => r.field).filter((f) => f !== "cmd");
      for (let i = 0; i < named.length; i++) {
        for (let j = i + 1; j < named.length; j++) {
          const a = named[i] as string;
          const parsed = parseClientFrame({ ...full, [a]: {}, [named[j] as string]: {} });
          expect(parsed.ok ? "accepted" : parsed.error.details.field, `${cmd}: ${a} before ${named[j]}`).toBe(
            a,
          );
        }
      }
    }
  });

  it("marks each reply's fields as the validator checks them: the same fields, required as marked", () => {
    const tables = fieldTables();
    const replies = serverSamples.filter((h) => "ok" in h) as Header[];
    const byTable = new Map<string, Header[]>();
    for (const h of replies) {
      const key = h.ok === false ? "reply error" : `reply ${String(h.type)}`;
      byTable.set(key, [...(byTable.get(key) ?? []), h]);
    }
    const entries = replies.flatMap((h) => (h.type === "entries" ? (h.entries as Header[]) : []));
    const statReply = replies.find((h) => h.type === "entry") as Header;
    const cases: Array<[string, Header[], (h: Header) => Header]> = [
      ...[...byTable].map(([key, samples]): [string, Header[], (h: Header) => Header] => [
        key,
        samples,
        (h) => h,
      ]),
      ["object entry", entries, (entry) => ({ ...statReply, entry })],
    ];
    for (const [key, samples, wrap] of cases) {
      const rows = tables.get(key) ?? [];
      const { full, fields } = fullest(samples);
      expect(new Set(rows.map((r) => r.field)), key).toEqual(fields);
      expect(parseServerFrame(wrap(full)).ok, key).toBe(true);
      for (const { field, required } of rows) {
        const ok = parseServerFrame(wrap(without(baseFor(required, samples, full), field))).ok;
        expect(ok, `${key}: ${field} is ${required === "no" ? "optional" : `required (${required})`}`).toBe(
          required === "no",
        );
      }
    }
  });

  it("writes the fingerprint example's two spellings for the same digest", () => {
    const section = doc.slice(doc.indexOf("### 1.1"), doc.indexOf("## 2."));
    const [b64, hex] = (/```\n(SHA256:\S+)\n(\S+)\n```/.exec(section) ?? []).slice(1);
    expect(b64).toBeDefined();
    expect(fingerprintHex(b64 as string)).toBe(hex);
  });

  it("lists every error code that travels on the wire", () => {
    const local = ["ECONNLOST", "ECONNREFUSED", "ENOTFOUND", "EABORTED", "EHOSTKEY", "EMAXDELETE"];
    for (const code of Object.keys(ERROR_CODES)) {
      if (local.includes(code)) expect(doc).toContain(`\`${code}\``);
      else expect(doc).toMatch(new RegExp(`\\| \`${code}\` +\\|`));
    }
  });
});
