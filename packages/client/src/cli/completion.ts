import path from "node:path";
import { printable } from "../lib/index.js";
import { quoteWord, splitLine } from "./args.js";
import { commandNames, findCommand } from "./commands/index.js";
import type { ArgKind } from "./commands/types.js";
import type { GlobEntry } from "./glob.js";
import { resolveLocal, resolveRemote } from "./paths.js";
import type { CliState } from "./state.js";
import { localList } from "./transfer/local.js";

export interface CompletionSources {
  state: CliState;
  /** Lists a remote directory (cached); rejects when not connected. */
  remote(dir: string): Promise<GlobEntry[]>;
  local(dir: string): Promise<GlobEntry[]>;
}

export function completionSources(state: CliState): CompletionSources {
  return { state, remote: (dir) => state.cachedList(dir), local: localList };
}

/** How a candidate is typed so that splitLine reads it back: in the open quote, or backslash-escaped. */
function render(candidate: string, openQuote: '"' | "'" | null): string {
  if (openQuote === "'") return `'${candidate}`;
  if (openQuote === '"') return `"${candidate.replace(/["\\]/g, "\\$&")}`;
  return quoteWord(candidate);
}

/**
 * readline's completer: `line` is the text left of the cursor. Returns the candidates, each
 * starting with the word being typed, and that word (readline inserts the rest).
 */
export async function complete(line: string, sources: CompletionSources): Promise<[string[], string]> {
  const { tokens, openQuote, lastStart } = splitLine(line, true);
  const typing = lastStart < line.length; // the cursor is inside a word, not after a space
  const raw = line.slice(lastStart);
  const stripped = line.trimStart().replace(/^-/, "");
  if (stripped.startsWith("!")) return [[], raw];

  if (tokens.length === 0 || (tokens.length === 1 && typing)) {
    const prefix = (tokens[0]?.text ?? "").replace(/^-/, "");
    const lead = raw.startsWith("-") ? "-" : "";
    return [
      commandNames()
        .filter((n) => n.startsWith(prefix))
        .map((n) => `${lead}${n} `),
      raw,
    ];
  }

  const spec = findCommand((tokens[0]?.text ?? "").replace(/^-/, ""));
  if (!spec) return [[], raw];
  const positional = tokens.slice(1, typing ? -1 : undefined).filter((t) => !t.text.startsWith("-"));
  const kinds = spec.args;
  const kind: ArgKind = kinds[Math.min(positional.length, kinds.length - 1)] ?? "none";
  const word = typing ? (tokens[tokens.length - 1]?.text ?? "") : "";

  let names: string[];
  if (kind === "command") {
    names = commandNames().filter((n) => n.startsWith(word));
  } else if (kind === "remote" || kind === "local") {
    const slash = word.lastIndexOf("/");
    const dirPart = word.slice(0, slash + 1);
    const prefix = word.slice(slash + 1);
    const entries = await (kind === "remote"
      ? sources.remote(resolveRemote(sources.state.remoteCwd, dirPart || "."))
      : sources.local(resolveLocal(sources.state.localCwd, dirPart || ".")));
    names = entries
      // A name the terminal would interpret is never typed into the line for the user.
      .filter((e) => e.name.startsWith(prefix) && printable(e.name) === e.name)
      .filter((e) => prefix.startsWith(".") || !e.name.startsWith("."))
      .map((e) => `${dirPart}${e.name}${e.type === "dir" ? (kind === "remote" ? "/" : path.sep) : ""}`);
  } else {
    return [[], raw];
  }
  const hits = names.map((n) => render(n, openQuote)).filter((c) => c.startsWith(raw));
  return [hits, raw];
}
