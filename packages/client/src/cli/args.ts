import { usage } from "./errors.js";

/**
 * One word of a command line. `text` is the literal value after quotes and escapes are removed;
 * `pattern` is the same word as a glob, where quoted or escaped `* ? [ \` are backslash-escaped so
 * `"a*b"` matches only the name `a*b`.
 */
export interface Token {
  text: string;
  pattern: string;
  /** True when the word has an unquoted, unescaped glob character. */
  glob: boolean;
}

export interface SplitResult {
  tokens: Token[];
  /** The quote still open at the end of the line, for completion of a half-typed word. */
  openQuote: '"' | "'" | null;
  /** Offset in the line where the last word starts (the line's length when it ends in a space). */
  lastStart: number;
}

const GLOB_CHARS = new Set(["*", "?", "["]);

/**
 * Splits a line like a POSIX shell would, without expansions: whitespace separates words, single
 * quotes keep everything, double quotes allow `\"` and `\\`, and a backslash outside quotes escapes
 * any character. `complete` mode accepts an unterminated quote or trailing backslash.
 */
export function splitLine(line: string, complete = false): SplitResult {
  const tokens: Token[] = [];
  let text = "";
  let pattern = "";
  let glob = false;
  let inWord = false;
  let quote: '"' | "'" | null = null;
  let lastStart = line.length;

  const literal = (ch: string): void => {
    text += ch;
    pattern += GLOB_CHARS.has(ch) || ch === "\\" ? `\\${ch}` : ch;
  };
  const startWord = (at: number): void => {
    if (!inWord) {
      inWord = true;
      lastStart = at;
    }
  };

  for (let i = 0; i < line.length; i++) {
    const ch = line[i] as string;
    if (quote === "'") {
      if (ch === "'") quote = null;
      else literal(ch);
      continue;
    }
    if (quote === '"') {
      if (ch === '"') quote = null;
      else if (ch === "\\" && (line[i + 1] === '"' || line[i + 1] === "\\")) literal(line[++i] as string);
      else literal(ch);
      continue;
    }
    if (ch === " " || ch === "\t") {
      if (inWord) tokens.push({ text, pattern, glob });
      text = "";
      pattern = "";
      glob = false;
      inWord = false;
      lastStart = line.length;
      continue;
    }
    startWord(i);
    if (ch === "'" || ch === '"') {
      quote = ch;
    } else if (ch === "\\") {
      if (i + 1 < line.length) literal(line[++i] as string);
      else if (!complete) throw usage("trailing backslash");
    } else {
      text += ch;
      pattern += ch;
      if (GLOB_CHARS.has(ch)) glob = true;
    }
  }
  if (quote !== null && !complete) throw usage(`unterminated ${quote} quote`);
  if (inWord) tokens.push({ text, pattern, glob });
  return { tokens, openQuote: quote, lastStart };
}

export function splitArgs(line: string): Token[] {
  return splitLine(line).tokens;
}

/**
 * Splits `-c "cmd; cmd"` into commands at `;` and newlines that are outside quotes and not escaped.
 * Empty commands are dropped.
 */
export function splitCommands(script: string): string[] {
  const out: string[] = [];
  let current = "";
  let quote: string | null = null;
  for (let i = 0; i < script.length; i++) {
    const ch = script[i] as string;
    if (quote) {
      if (ch === quote) quote = null;
      else if (ch === "\\" && quote === '"' && i + 1 < script.length) {
        current += ch + script[++i];
        continue;
      }
      current += ch;
      continue;
    }
    if (ch === "\\" && i + 1 < script.length) {
      current += ch + script[++i];
      continue;
    }
    if (ch === "'" || ch === '"') quote = ch;
    if (ch === ";" || ch === "\n") {
      if (current.trim()) out.push(current.trim());
      current = "";
      continue;
    }
    current += ch;
  }
  if (current.trim()) out.push(current.trim());
  return out;
}

/** Lines of a batch file: one command per line; blank lines and `#` comments are skipped. */
export function batchLines(content: string): string[] {
  return content
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
}

/** Quotes a word so that splitLine gives it back unchanged (for completion and messages). */
export function quoteWord(word: string): string {
  return word.replace(/[\s"'\\*?[#;]/g, (c) => `\\${c}`);
}
