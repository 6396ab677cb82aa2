/**
 * Where the CLI writes. Commands print through this, never to process.stdout directly, so the
 * same code serves the prompt, batch mode and tests.
 */
export interface Io {
  /** A line for people (stdout). */
  out(line: string): void;
  /** A warning or error line (stderr). */
  err(line: string): void;
  /** One JSON line (stdout), for --json. */
  json(value: unknown): void;
  /** The stream bars are drawn on, when it is a terminal. */
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean };
}

export function processIo(): Io {
  return {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    json: (value) => process.stdout.write(`${JSON.stringify(value)}\n`),
    stdout: process.stdout,
  };
}
