import type { FerrySession } from "../lib/index.js";
import { splitArgs } from "./args.js";
import { findCommand } from "./commands/index.js";
import { connectedLine } from "./commands/open.js";
import type { Context } from "./commands/types.js";
import { type CliCode, codeOf, describeError, isEarlyLoginRefusal, messageOf, usage } from "./errors.js";
import type { Io } from "./io.js";
import { ConflictPolicy, type Prompter } from "./prompts.js";
import { Reporter } from "./render/reporter.js";
import { visible } from "./render/visible.js";
import type { CliOptions, CliState } from "./state.js";

export interface RunnerDeps {
  state: CliState;
  options: CliOptions;
  io: Io;
  prompter: Prompter;
  /** Runs a shell command line; resolves with its exit status. */
  shell(command: string, cwd: string): Promise<number>;
  /** Prefix of error lines: "ferry: " in batch mode, nothing at the prompt. */
  errorPrefix: string;
}

export interface LineResult {
  /** False when the command failed and was not prefixed with `-`. */
  ok: boolean;
  quit: boolean;
  /** The failure's code, when it failed (even if ignored). */
  code?: CliCode;
}

/** True once the session's hello is answered and the session ready; false when it failed there. */
function answered(session: FerrySession): Promise<boolean> {
  return session.ready.then(
    () => true,
    () => false,
  );
}

/** Runs one command line: parses it, runs the command, turns a failure into one printed line. */
export class Runner {
  constructor(private readonly deps: RunnerDeps) {}

  /** A line typed or read (or saved history), for the `history` command. */
  remember(line: string): void {
    this.deps.state.remember(line);
  }

  async run(rawLine: string, signal: AbortSignal): Promise<LineResult> {
    let line = rawLine.trim();
    if (line === "") return { ok: true, quit: false };
    // `-cmd` goes on after a failure, as in make and sftp batch files.
    const ignoreFailure = line.startsWith("-");
    if (ignoreFailure) line = line.slice(1).trimStart();
    const reporters: Reporter[] = [];
    try {
      const { spec, args } = this.parse(line);
      let result: Awaited<ReturnType<typeof spec.run>>;
      try {
        result = await spec.run(this.context(signal, reporters), args);
      } catch (err) {
        const pending = this.deps.state.pendingOpen;
        if (pending === null || (await answered(pending.session))) throw err;
        // The session failed at its hello: that is the open's failure, and the server did none of
        // this command. When it only wants a login, log in and run the command again.
        for (const r of reporters.splice(0)) r.close();
        if (!(await this.settleOpen())) return { ok: ignoreFailure, quit: false, code: codeOf(err) };
        result = await spec.run(this.context(signal, reporters), args);
      }
      return { ok: true, quit: result === "quit" };
    } catch (err) {
      for (const r of reporters) r.close();
      this.report(line, err);
      return { ok: ignoreFailure, quit: false, code: codeOf(err) };
    }
  }

  /**
   * Waits for the answer to an early open's hello (CliState.pendingOpen). A server that wants a
   * login is opened again the usual way (asking for what it needs); any other failure is printed
   * as the open's, and the state left not connected. Resolves false when the open failed.
   */
  async settleOpen(): Promise<boolean> {
    const { state, prompter, options, io } = this.deps;
    const pending = state.pendingOpen;
    state.pendingOpen = null;
    if (pending === null || state.session !== pending.session) return true;
    let failure: unknown;
    try {
      await pending.session.ready;
      return true;
    } catch (err) {
      failure = state.explain(err);
    }
    if (isEarlyLoginRefusal(failure)) {
      try {
        const session = await state.openAfterRefusal(prompter, options.timeoutMs);
        if (!options.json) io.err(connectedLine(state, session));
        return true;
      } catch (err) {
        failure = err;
      }
    }
    await state.close();
    this.report(pending.line, failure);
    return false;
  }

  private report(line: string, err: unknown): void {
    const code = codeOf(err);
    const message = visible(describeError(err));
    this.deps.io.err(`${this.deps.errorPrefix}${visible(line)}: ${message}`);
    if (this.deps.options.json) {
      this.deps.io.json({ kind: "error", command: line, code, message: messageOf(err) });
    }
  }

  private parse(line: string) {
    if (line.startsWith("!")) {
      // The shell gets the rest of the line as typed; our quoting rules are not its rules.
      const rest = line.slice(1).trim();
      const spec = findCommand("!");
      if (!spec) throw usage("no shell command");
      return { spec, args: rest === "" ? [] : [{ text: rest, pattern: rest, glob: false }] };
    }
    const [first, ...args] = splitArgs(line);
    const spec = first ? findCommand(first.text) : undefined;
    if (!spec) throw usage(`unknown command "${first?.text ?? ""}"; type help for the list`);
    return { spec, args };
  }

  private context(signal: AbortSignal, reporters: Reporter[]): Context {
    const { state, options, io, prompter } = this.deps;
    return {
      state,
      options,
      io,
      prompter,
      signal,
      session: () => state.require(prompter, options.timeoutMs),
      reporter: () => {
        const r = new Reporter(io, {
          bars: state.progress && !options.json && io.stdout.isTTY === true,
          json: options.json,
        });
        reporters.push(r);
        return r;
      },
      conflicts: () => new ConflictPolicy(prompter, options.yes),
      settleOpen: () => this.settleOpen(),
      shell: (command) => this.deps.shell(command, state.localCwd),
    };
  }
}
