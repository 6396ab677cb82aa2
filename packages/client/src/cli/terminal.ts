import type { ReadStream } from "node:tty";
import type { TerminalHandoff } from "./prompts.js";

/**
 * Owns the keyboard while a command runs at the prompt: the terminal is in raw mode so Ctrl-C
 * arrives as a byte (not SIGINT) and aborts just that command. Prompts and `!cmd` borrow the
 * terminal through release()/reclaim().
 */
export class CommandKeys implements TerminalHandoff {
  private controller: AbortController | null = null;
  private attached = false;

  constructor(private readonly input: ReadStream) {}

  private readonly onData = (chunk: Buffer | string): void => {
    const hit = typeof chunk === "string" ? chunk.includes("\x03") : chunk.includes(3);
    if (hit) this.controller?.abort();
  };

  /** A command starts: returns the signal Ctrl-C will abort. */
  begin(): AbortSignal {
    this.controller = new AbortController();
    this.attach();
    return this.controller.signal;
  }

  end(): void {
    this.detach();
    this.controller = null;
  }

  release(): void {
    this.detach();
  }

  reclaim(): void {
    if (this.controller) this.attach();
  }

  private attach(): void {
    if (this.attached) return;
    this.attached = true;
    this.input.setRawMode(true);
    this.input.on("data", this.onData);
    this.input.resume();
  }

  private detach(): void {
    if (!this.attached) return;
    this.attached = false;
    this.input.off("data", this.onData);
    this.input.setRawMode(false);
    this.input.pause();
  }
}
