import { cd, lcd, lmkdir, lpwd, pwd } from "./cd.js";
import { df } from "./df.js";
import { get, reget } from "./get.js";
import { helpCommand } from "./help.js";
import { history } from "./history.js";
import { lls } from "./lls.js";
import { dir, ls } from "./ls.js";
import { mget } from "./mget.js";
import { mirror } from "./mirror.js";
import { mkdir } from "./mkdir.js";
import { mput } from "./mput.js";
import { close, open } from "./open.js";
import { progress } from "./progress.js";
import { put, reput } from "./put.js";
import { quit } from "./quit.js";
import { rename } from "./rename.js";
import { rm, rmdir } from "./rm.js";
import { shell } from "./shell.js";
import { stat } from "./stat.js";
import { sum } from "./sum.js";
import type { CommandSpec } from "./types.js";

const base: CommandSpec[] = [
  open,
  close,
  put,
  get,
  reput,
  reget,
  mput,
  mget,
  mirror,
  ls,
  dir,
  cd,
  pwd,
  lcd,
  lpwd,
  lls,
  lmkdir,
  mkdir,
  rm,
  rmdir,
  rename,
  stat,
  sum,
  df,
  progress,
  history,
];

export const COMMANDS: readonly CommandSpec[] = [
  ...base,
  helpCommand(() => COMMANDS, findCommand),
  quit,
  shell,
];

export function findCommand(name: string): CommandSpec | undefined {
  return COMMANDS.find((c) => c.name === name || c.aliases?.includes(name));
}

/** Every name a person may type first on a line, for completion. */
export function commandNames(): string[] {
  return COMMANDS.flatMap((c) => [c.name, ...(c.aliases ?? [])])
    .filter((n) => n !== "!" && n !== "?")
    .sort();
}
