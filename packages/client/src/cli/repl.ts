import readline from "node:readline";
import type { ReadStream, WriteStream } from "node:tty";
import { type CompletionSources, complete } from "./completion.js";
import { appendHistory, HISTORY_SIZE, loadHistory } from "./history.js";
import type { Runner } from "./runner.js";
import type { CommandKeys } from "./terminal.js";

export const PROMPT = "ftp> ";

export interface ReplOptions {
  input: ReadStream;
  output: WriteStream;
  runner: Runner;
  keys: CommandKeys;
  sources: CompletionSources;
  historyFile: string;
}

type Read = { kind: "line"; line: string } | { kind: "eof" } | { kind: "interrupt"; empty: boolean };

/**
 * Reads one line with editing, history and completion. A fresh readline per line, because while
 * a command runs the terminal belongs to it (Ctrl-C watcher, inquirer prompts, `!cmd`).
 */
function readOne(opts: ReplOptions, history: string[]): Promise<Read> {
  return new Promise((resolve) => {
    const rl = readline.createInterface({
      input: opts.input,
      output: opts.output,
      terminal: true,
      history: history.slice(),
      historySize: HISTORY_SIZE,
      removeHistoryDuplicates: true,
      completer: (line: string, callback: (err: null, result: [string[], string]) => void) => {
        complete(line, opts.sources).then(
          (result) => callback(null, result),
          // Not connected, or the listing failed: no suggestions rather than an error mid-typing.
          () => callback(null, [[], line]),
        );
      },
    });
    let settled = false;
    const finish = (result: Read): void => {
      if (settled) return;
      settled = true;
      rl.close();
      resolve(result);
    };
    rl.on("line", (line) => finish({ kind: "line", line }));
    rl.on("SIGINT", () => {
      const empty = rl.line === "";
      opts.output.write("^C\n");
      finish({ kind: "interrupt", empty });
    });
    rl.on("close", () => finish({ kind: "eof" }));
    rl.setPrompt(PROMPT);
    rl.prompt();
  });
}

/** The `ftp>` loop. Resolves when the user quits (quit, Ctrl-D, Ctrl-C on an empty line). */
export async function repl(opts: ReplOptions): Promise<void> {
  const history = loadHistory(opts.historyFile);
  // `history` shows the saved lines too, oldest first, then each line as it is typed.
  for (const line of [...history].reverse()) opts.runner.remember(line);
  for (;;) {
    const read = await readOne(opts, history);
    if (read.kind === "eof") {
      opts.output.write("\n");
      return;
    }
    if (read.kind === "interrupt") {
      if (read.empty) return;
      continue;
    }
    const line = read.line;
    if (line.trim() !== "") opts.runner.remember(line.trim());
    if (line.trim() !== "" && history[0] !== line) {
      history.unshift(line);
      history.length = Math.min(history.length, HISTORY_SIZE);
      appendHistory(opts.historyFile, line);
    }
    const signal = opts.keys.begin();
    try {
      const result = await opts.runner.run(line, signal);
      if (result.quit) return;
    } finally {
      opts.keys.end();
    }
  }
}
