import type { Token } from "./args.js";
import { usage } from "./errors.js";

/** One option of a command: its long name, a one-letter alias, and whether it takes a value. */
export interface OptionSpec {
  long: string;
  short?: string;
  /** Takes a value (`--exclude GLOB` or `--exclude=GLOB`); repeatable, values kept in order. */
  value?: boolean;
}

export interface ParsedArgs {
  /** Boolean options given, by long name. */
  flags: Set<string>;
  /** Options with values, in the order given (`--include` and `--exclude` mix), by long name. */
  values: { name: string; value: string }[];
  positionals: Token[];
}

/**
 * Splits a command's words into options and positionals: `--long`, `--long=value`, `--long value`,
 * `-x` and combined `-xy` for one-letter flags; options may come anywhere; `--` ends them, so a file
 * named `-R` can still be given. An unknown option is EUSAGE naming it, never taken as a path.
 */
export function parseLongOptions(tokens: readonly Token[], specs: readonly OptionSpec[]): ParsedArgs {
  const out: ParsedArgs = { flags: new Set(), values: [], positionals: [] };
  const byLong = new Map(specs.map((s) => [s.long, s]));
  const byShort = new Map(specs.filter((s) => s.short).map((s) => [s.short as string, s]));
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
      if (!spec) throw usage(`unknown option --${name}`);
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
        if (!spec) throw usage(`unknown option -${letter}`);
        if (spec.value) {
          const value = tokens[++i]?.text;
          if (value === undefined || t.length > 2) throw usage(`-${letter} needs a value of its own`);
          out.values.push({ name: spec.long, value });
        } else {
          out.flags.add(spec.long);
        }
      }
      continue;
    }
    out.positionals.push(token);
  }
  return out;
}
