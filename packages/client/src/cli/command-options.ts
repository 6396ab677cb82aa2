import type { Token } from "./args.js";
import { usage } from "./errors.js";

/**
 * One option of a command: a long name (`--delete`), a one-letter alias (`-n`), or both; and whether
 * it takes a value. An option is known by its long name, or by its letter when it has none.
 */
export interface OptionSpec {
  long?: string;
  short?: string;
  /** Takes a value (`--exclude GLOB`, `--exclude=GLOB`, `-x GLOB`); repeatable, values kept in order. */
  value?: boolean;
}

export interface ParsedArgs {
  /** Flags given, by name (`delete`, or `r` for a letter with no long name). */
  flags: Set<string>;
  /** Options with values, in the order given (`--include` and `--exclude` mix), by name. */
  values: { name: string; value: string }[];
  positionals: Token[];
}

/** Flags of one letter each, with no long names: `shortFlags("rp")` for `-r`, `-p`, `-rp`. */
export function shortFlags(letters: string): OptionSpec[] {
  return [...letters].map((short) => ({ short }));
}

/**
 * Splits a command's words into options and positionals, strictly: a word that starts with `-` is
 * always an option, anywhere on the line (as GNU tools read them), so an option letter is never taken
 * for a path, and an unknown one is EUSAGE naming it. Takes `--long`, `--long=value`, `--long value`,
 * `-x`, combined `-xy`, and `-x value` for a letter with a value. `--` ends the options (a file named
 * `-r` is `-- -r`); a lone `-` is a positional (`cd -`).
 */
export function takeOptions(tokens: readonly Token[], specs: readonly OptionSpec[]): ParsedArgs {
  const out: ParsedArgs = { flags: new Set(), values: [], positionals: [] };
  const byLong = new Map(specs.filter((s) => s.long).map((s) => [s.long as string, s]));
  const byShort = new Map(specs.filter((s) => s.short).map((s) => [s.short as string, s]));
  const nameOf = (s: OptionSpec): string => (s.long ?? s.short) as string;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] as Token;
    const t = token.text;
    if (t === "--") {
      out.positionals.push(...tokens.slice(i + 1));
      break;
    }
    if (t.startsWith("--")) {
      const eq = t.indexOf("=");
      const name = t.slice(2, eq < 0 ? undefined : eq);
      const spec = byLong.get(name);
      if (!spec) throw usage(`unknown option ${shortened(`--${name}`)}`);
      if (!spec.value) {
        if (eq >= 0) throw usage(`--${name} takes no value`);
        out.flags.add(name);
        continue;
      }
      const value = eq >= 0 ? t.slice(eq + 1) : tokens[++i]?.text;
      if (value === undefined) throw usage(`--${name} needs a value`);
      out.values.push({ name, value });
      continue;
    }
    if (t.length > 1 && t.startsWith("-")) {
      for (const letter of t.slice(1)) {
        const spec = byShort.get(letter);
        if (!spec) throw usage(`unknown option -${shortened(letter)}`);
        if (spec.value) {
          const value = tokens[++i]?.text;
          if (value === undefined || t.length > 2) throw usage(`-${letter} needs a value of its own`);
          out.values.push({ name: nameOf(spec), value });
        } else {
          out.flags.add(nameOf(spec));
        }
      }
      continue;
    }
    out.positionals.push(token);
  }
  return out;
}

/** An option as typed, shortened: it goes into a one-line error. */
function shortened(text: string): string {
  const chars = [...text];
  return chars.length > 40 ? `${chars.slice(0, 40).join("")}…` : text;
}
