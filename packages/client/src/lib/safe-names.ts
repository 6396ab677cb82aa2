import { isAbsolute, relative, resolve, sep } from "node:path";
import { FerryError, MAX_NAME_BYTES } from "@ferry/protocol";

// C0 controls, DEL and C1 controls: the bytes a terminal may act on (ESC, CSI 0x9b, BEL, BS, CR, ...).
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * True when a name that came back from the server (a listing entry) is a single plain file name that
 * is safe to create locally: not empty, not `.` or `..`, no `/` or `\` (so it cannot climb out of or
 * reach across directories, CVE-2019-6111), no NUL or control characters, at most 255 UTF-8 bytes.
 */
export function isSafeRemoteName(name: string): boolean {
  if (typeof name !== "string" || name.length === 0 || name === "." || name === "..") return false;
  if (name.includes("/") || name.includes("\\")) return false;
  if (CONTROL.test(name)) return false;
  if (hasLoneSurrogate(name)) return false;
  return Buffer.byteLength(name, "utf8") <= MAX_NAME_BYTES;
}

/**
 * Resolves a local target for remote names (one, or several for a nested tree as in `mget -r`) inside
 * `destDir`. Throws EBADPATH when any name is unsafe or the result would leave `destDir`; nothing is
 * written by this function. Symbolic links already inside `destDir` are the caller's business.
 */
export function resolveLocalTarget(destDir: string, ...names: string[]): string {
  if (names.length === 0) throw new FerryError("EBADPATH", "no name given", { names });
  for (const name of names) {
    if (!isSafeRemoteName(name)) {
      throw new FerryError("EBADPATH", `unsafe name from the server: ${printable(String(name))}`, { name });
    }
  }
  const root = resolve(destDir);
  const target = resolve(root, ...names);
  const rel = relative(root, target);
  if (rel === "" || isAbsolute(rel) || rel === ".." || rel.startsWith(`..${sep}`)) {
    throw new FerryError("EBADPATH", `name leaves the destination folder: ${printable(names.join("/"))}`, {
      names,
    });
  }
  return target;
}

// Characters a terminal acts on or that change how the rest of the line reads: controls (Cc), the
// line/paragraph separators and the bidirectional overrides/isolates (the "Trojan Source" set).
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\\]/g;

/**
 * Makes a name safe to print: control characters, escape sequences and bidi controls become visible
 * text (`\x1b`, `\u202e`) instead of being interpreted by the terminal (CVE-2019-6109). A backslash
 * is doubled so the output is unambiguous; lone surrogates show as `\udXXX`.
 */
export function printable(name: string): string {
  const escaped = name.replace(UNPRINTABLE, (ch) => {
    if (ch === "\\") return "\\\\";
    const code = ch.charCodeAt(0);
    return code <= 0xff ? `\\x${hex(code, 2)}` : `\\u${hex(code, 4)}`;
  });
  return escaped.replace(LONE_SURROGATE, (ch) => `\\u${hex(ch.charCodeAt(0), 4)}`);
}

function hex(code: number, width: number): string {
  return code.toString(16).padStart(width, "0");
}

// With the `u` flag a surrogate range matches only unpaired halves (paired ones form one code point).
const LONE_SURROGATE = /[\ud800-\udfff]/gu;

function hasLoneSurrogate(s: string): boolean {
  LONE_SURROGATE.lastIndex = 0;
  return LONE_SURROGATE.test(s);
}
