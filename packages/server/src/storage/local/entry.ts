import type { Stats } from "node:fs";
import type { Entry, EntryType } from "@ferry/protocol";

export function entryType(st: Stats): EntryType {
  if (st.isFile()) return "file";
  if (st.isDirectory()) return "dir";
  if (st.isSymbolicLink()) return "symlink";
  return "other";
}

/** A listing/stat entry from lstat facts; only regular files report a size. */
export function entryOf(name: string, st: Stats, md5?: string): Entry {
  const type = entryType(st);
  const entry = {
    name,
    type,
    size: type === "file" ? st.size : 0,
    mtime: Math.max(0, Math.floor(st.mtimeMs)),
  };
  return md5 && type === "file" ? { ...entry, md5 } : (entry as Entry);
}
