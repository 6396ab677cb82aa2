import { CliError } from "./errors.js";

export type ConflictChoice = "overwrite" | "resume" | "skip" | "overwrite-all" | "skip-all";

/**
 * The questions the CLI may ask a person. Implementations: inquirer on a terminal, and one that
 * never asks (no terminal), where every question is an error unless --yes already answered it.
 */
export interface Prompter {
  readonly interactive: boolean;
  password(message: string): Promise<string>;
  conflict(message: string, canResume: boolean): Promise<ConflictChoice>;
  confirm(message: string): Promise<boolean>;
}

/** Called around each question, so the prompt can hand the terminal to inquirer and take it back. */
export interface TerminalHandoff {
  release(): void;
  reclaim(): void;
}

function cancelled(err: unknown): never {
  // inquirer rejects with ExitPromptError on Ctrl-C / Ctrl-D and AbortPromptError on abort.
  const name = (err as { name?: unknown } | null)?.name;
  if (name === "ExitPromptError" || name === "AbortPromptError" || name === "CancelPromptError") {
    throw new CliError("EABORTED", "cancelled");
  }
  throw err;
}

/**
 * inquirer is loaded on the first question: it is the largest part of the CLI (~150 ms of module
 * loading here), and most runs (-c, -b, --yes, piped stdin) never ask anything.
 */
function inquirer(): Promise<typeof import("@inquirer/prompts")> {
  return import("@inquirer/prompts");
}

export class InquirerPrompter implements Prompter {
  readonly interactive = true;

  constructor(private readonly handoff: TerminalHandoff = { release() {}, reclaim() {} }) {}

  private async ask<T>(question: () => Promise<T>): Promise<T> {
    this.handoff.release();
    try {
      return await question();
    } catch (err) {
      return cancelled(err);
    } finally {
      this.handoff.reclaim();
    }
  }

  password(message: string): Promise<string> {
    return this.ask(async () => (await inquirer()).password({ message, mask: false }));
  }

  conflict(message: string, canResume: boolean): Promise<ConflictChoice> {
    const choices = [
      { key: "o" as const, name: "overwrite", value: "overwrite" as const },
      ...(canResume ? [{ key: "r" as const, name: "resume", value: "resume" as const }] : []),
      { key: "s" as const, name: "skip", value: "skip" as const },
      { key: "a" as const, name: "overwrite all", value: "overwrite-all" as const },
      { key: "n" as const, name: "skip all", value: "skip-all" as const },
    ];
    return this.ask(async () =>
      (await inquirer()).expand<ConflictChoice>({ message, choices, default: "s", expanded: true }),
    );
  }

  confirm(message: string): Promise<boolean> {
    return this.ask(async () => (await inquirer()).confirm({ message, default: false }));
  }
}

/** Without a terminal nobody can answer: say so in one line instead of hanging. */
export class NoPrompter implements Prompter {
  readonly interactive = false;

  password(): Promise<string> {
    return Promise.reject(
      new CliError("EAUTH", "the server requires a secret; give it with --secret-file FILE or FERRY_SECRET"),
    );
  }

  conflict(message: string): Promise<ConflictChoice> {
    return Promise.reject(new CliError("EEXIST", `${message}; use --yes to overwrite`));
  }

  confirm(message: string): Promise<boolean> {
    return Promise.reject(new CliError("ENOTTY", `${message} cannot be asked without a terminal; use --yes`));
  }
}

/**
 * One command's answers to "the target exists": --yes means overwrite; "overwrite all" and
 * "skip all" stick for the rest of the command.
 */
export class ConflictPolicy {
  private sticky: "overwrite" | "skip" | null;

  constructor(
    private readonly prompter: Prompter,
    yes: boolean,
  ) {
    this.sticky = yes ? "overwrite" : null;
  }

  /** `target` is printable; `hint` ends the error when nobody can be asked. */
  async decide(target: string, canResume: boolean, hint: string): Promise<"overwrite" | "resume" | "skip"> {
    if (this.sticky) return this.sticky;
    if (!this.prompter.interactive) {
      throw new CliError("EEXIST", `${target} already exists; ${hint}`);
    }
    const choice = await this.prompter.conflict(`${target} already exists`, canResume);
    if (choice === "overwrite-all") this.sticky = "overwrite";
    if (choice === "skip-all") this.sticky = "skip";
    return this.sticky ?? (choice as "overwrite" | "resume" | "skip");
  }
}
