import { printable } from "../../lib/index.js";

// The characters printable() escapes, minus the backslash: messages may already hold printable()
// names, and escaping their backslashes again would print `\\x1b` for `\x1b`.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]/g;

/** Makes a whole message safe for a terminal (CVE-2019-6109) without re-escaping what already is. */
export function visible(text: string): string {
  return text.replace(UNSAFE, (ch) => printable(ch));
}
