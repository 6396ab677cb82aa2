import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export const HISTORY_SIZE = 1000;

/** `FERRY_HISTORY`, else `~/.ferry_history`. */
export function historyFile(env: NodeJS.ProcessEnv = process.env): string {
  return env.FERRY_HISTORY || path.join(os.homedir(), ".ferry_history");
}

/** The saved lines, newest first (readline's order). A missing or unreadable file is no history. */
export function loadHistory(file: string): string[] {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    return [];
  }
  return text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .slice(-HISTORY_SIZE)
    .reverse();
}

/** Appends one line; history is a convenience, so a read-only home only loses it. */
export function appendHistory(file: string, line: string): void {
  try {
    fs.appendFileSync(file, `${line.replace(/\n/g, " ")}\n`, { mode: 0o600 });
  } catch {
    // Nothing to do: the session works without a history file.
  }
}
