import type { FerrySession } from "../../lib/index.js";
import type { Token } from "../args.js";
import type { Io } from "../io.js";
import type { ConflictPolicy, Prompter } from "../prompts.js";
import type { Reporter } from "../render/reporter.js";
import type { CliOptions, CliState } from "../state.js";

/** What a command needs from the world; built fresh for every command line. */
export interface Context {
  readonly state: CliState;
  readonly options: CliOptions;
  readonly io: Io;
  readonly prompter: Prompter;
  /** Aborted by Ctrl-C while this command runs. */
  readonly signal: AbortSignal;
  /** The session, or ENOTCONN (reconnects after a lost connection). */
  session(): Promise<FerrySession>;
  /** Progress and result lines for transfers; closed by the runner after the command. */
  reporter(): Reporter;
  conflicts(): ConflictPolicy;
  /**
   * Reports the outcome of an early open not yet known (see CliState.pendingOpen): false when it
   * failed (said in one line, as the open's failure; the state is then not connected).
   */
  settleOpen(): Promise<boolean>;
  /** Runs a local shell command with the terminal handed over to it. */
  shell(command: string): Promise<number>;
}

/** How tab completion treats a positional argument. */
export type ArgKind = "remote" | "local" | "command" | "none";

export type CommandResult = undefined | "quit";

export interface CommandSpec {
  name: string;
  aliases?: string[];
  /** `put LOCAL [REMOTE]` */
  usage: string;
  summary: string;
  /** Longer text for `help CMD`. */
  details?: string;
  /** Completion kind of each positional argument; the last one repeats. */
  args: ArgKind[];
  run(ctx: Context, args: Token[]): Promise<CommandResult>;
}
