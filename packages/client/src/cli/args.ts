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

/** What options a command takes. Names of one letter are short (`-r`), longer ones long (`--dry-run`). */
export interface OptionSpec {
  /** Single-letter flags without a value, combinable as `-rh`. */
  flags?: string;
  /** Long flags without a value: `--delete`. */
  long?: readonly string[];
  /** Options that take a value (`-o V`, `--max-delete N`, `--max-delete=N`), repeatable. */
  values?: readonly string[];
}

export interface ParsedWords {
  /** Flags given, by name (`r`, `delete`). */
  flags: Set<string>;
  /** Values of value options, by name, in the order given. */
  values: Map<string, string[]>;
  /** The positional words, in order. */
  rest: Token[];
}

/**
 * Splits a command's words into options and positional words, strictly: a word that starts with
 * `-` is always an option (anywhere on the line, as GNU tools read them), so an option letter is
 * never taken for a path, and an unknown one is EUSAGE naming it. `--` ends the options (a file
 * named `-r` is `-- -r`); a lone `-` is a positional word (`cd -`).
 */
export function parseWords(tokens: readonly Token[], spec: OptionSpec): ParsedWords {
  const flags = new Set<string>();
  const values = new Map<string, string[]>();
  const rest: Token[] = [];
  const shortFlags = spec.flags ?? "";
  const takesValue = new Set(spec.values ?? []);
  const longFlags = new Set(spec.long ?? []);
  const addValue = (name: string, value: string): void => {
    values.set(name, [...(values.get(name) ?? []), value]);
  };
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] as Token;
    const t = token.text;
    if (t === "--") {
      rest.push(...tokens.slice(i + 1));
      break;
    }
    if (!t.startsWith("-") || t === "-") {
      rest.push(token);
      continue;
    }
    if (t.startsWith("--")) {
      const eq = t.indexOf("=");
      const name = eq === -1 ? t.slice(2) : t.slice(2, eq);
      if (name.length > 1 && takesValue.has(name)) {
        if (eq !== -1) addValue(name, t.slice(eq + 1));
        else if (i + 1 < tokens.length) addValue(name, (tokens[++i] as Token).text);
        else throw usage(`option --${name} needs a value`);
      } else if (name.length > 1 && longFlags.has(name) && eq === -1) {
        flags.add(name);
      } else {
        throw usage(`unknown option ${printableOption(eq === -1 ? t : t.slice(0, eq))}`);
      }
      continue;
    }
    const letters = [...t.slice(1)];
    for (const [k, f] of letters.entries()) {
      if (takesValue.has(f)) {
        const inline = letters.slice(k + 1).join("");
        if (inline !== "") addValue(f, inline);
        else if (i + 1 < tokens.length) addValue(f, (tokens[++i] as Token).text);
        else throw usage(`option -${f} needs a value`);
        break;
      }
      if (!shortFlags.includes(f) || !/^[a-zA-Z0-9]$/.test(f))
        throw usage(`unknown option -${printableOption(f)}`);
      flags.add(f);
    }
  }
  return { flags, rest, values };
}

/** An option as typed, shortened: it goes into a one-line error. */
function printableOption(text: string): string {
  const chars = [...text];
  return chars.length > 40 ? `${chars.slice(0, 40).join("")}…` : text;
}

/** Single-letter flags only (see parseWords): `-rh`, anywhere before `--`. */
export function takeFlags(tokens: Token[], allowed: string): { flags: Set<string>; rest: Token[] } {
  const { flags, rest } = parseWords(tokens, { flags: allowed });
  return { flags, rest };
}
