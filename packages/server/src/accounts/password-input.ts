import type { ReadStream } from "node:tty";
import { FerryError } from "@ferry/protocol";

/** Longest line read as a password from a pipe. */
const MAX_PIPED_BYTES = 4096;

/**
 * Reads a password without echoing it: the terminal goes into raw mode and gets nothing back but
 * the prompt. Backspace edits; Enter ends; Ctrl-C or Ctrl-D on an empty line gives up.
 */
export function readHidden(
  prompt: string,
  input: ReadStream,
  output: NodeJS.WritableStream,
): Promise<string> {
  return new Promise((resolve, reject) => {
    let typed = "";
    const wasRaw = input.isRaw;
    const finish = (err: Error | null) => {
      input.off("data", onData);
      input.setRawMode(wasRaw);
      input.pause();
      output.write("\n");
      if (err) reject(err);
      else resolve(typed);
    };
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString("utf8")) {
        if (ch === "\r" || ch === "\n") return finish(null);
        if (ch === "\u0003" || (ch === "\u0004" && typed === "")) {
          return finish(new FerryError("EABORTED", "cancelled"));
        }
        if (ch === "\u007f" || ch === "\b") typed = [...typed].slice(0, -1).join("");
        else if (ch >= " ") typed += ch;
      }
    };
    // Raw (no echo) before the prompt shows: what is typed once it shows is never echoed.
    input.setRawMode(true);
    output.write(prompt);
    input.resume();
    input.on("data", onData);
  });
}

/** The first line of a non-terminal stdin (a script's `echo pw | ferryd user add ...`). */
export async function readPipedLine(input: NodeJS.ReadableStream): Promise<string> {
  let text = "";
  for await (const chunk of input) {
    text += chunk.toString();
    const nl = text.indexOf("\n");
    if (nl >= 0) {
      text = text.slice(0, nl);
      break;
    }
    if (Buffer.byteLength(text) > MAX_PIPED_BYTES)
      throw new FerryError("EAUTH", "the password line is too long");
  }
  return text.replace(/\r$/, "");
}

export interface PasswordSources {
  env: NodeJS.ProcessEnv;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  /** Where the prompts go (stderr: stdout may be a script's). */
  prompts: NodeJS.WritableStream;
}

/**
 * A new password: FERRY_PASSWORD, else the first line of stdin when it is not a terminal, else asked
 * twice on the terminal without echo (the two must agree). Never from argv, so never in `ps`.
 */
export async function newPassword(what: string, io: PasswordSources): Promise<string> {
  const fromEnv = io.env.FERRY_PASSWORD;
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  if (io.stdin.isTTY !== true) return readPipedLine(io.stdin);
  const tty = io.stdin as ReadStream;
  const first = await readHidden(`password for ${what}: `, tty, io.prompts);
  const second = await readHidden("the same password again: ", tty, io.prompts);
  if (first !== second) throw new FerryError("EAUTH", "the two passwords differ; nothing was changed");
  return first;
}
