import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ERROR_CODES } from "./errors.js";
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
import { parseClientFrame, parseServerFrame } from "./messages.js";

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
      "bye",
      "data",
      "end",
    ]) {
      expect(cmds).toContain(cmd);
    }
    for (const type of ["hello", "ready", "done", "file", "entries", "entry", "sum"])
      expect(types).toContain(type);
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

  it("states the limits the code enforces", () => {
    expect(doc).toContain(`version ${PROTOCOL_VERSION}`);
    expect(doc).toContain(`${DEFAULT_MAX_HEADER_BYTES} bytes`);
    expect(doc).toContain(String(MAX_SIZE));
    expect(doc).toContain(`${MAX_PATH_BYTES} UTF-8`);
    expect(doc).toContain(`default port ${DEFAULT_PORT}`);
  });

  it("lists every error code that travels on the wire", () => {
    const local = ["ECONNLOST", "ECONNREFUSED", "EABORTED", "EMAXDELETE"];
    for (const code of Object.keys(ERROR_CODES)) {
      if (local.includes(code)) expect(doc).toContain(`\`${code}\``);
      else expect(doc).toMatch(new RegExp(`\\| \`${code}\` +\\|`));
    }
  });
});
