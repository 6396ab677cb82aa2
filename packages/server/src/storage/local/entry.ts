import type { Stats } from "node:fs";
import { type Entry, type EntryType, type HashAlgorithm, hashFields } from "@ferry/protocol";

export function entryType(st: Stats): EntryType {
  if (st.isFile()) return "file";
  if (st.isDirectory()) return "dir";
  if (st.isSymbolicLink()) return "symlink";
  return "other";
}

/**
 * A listing/stat entry from lstat facts; only regular files report a size, and a known hash in `alg`
 * (in `md5` or `hash`, PROTOCOL.md §1.2).
 */
export function entryOf(name: string, st: Stats, hash?: string, alg: HashAlgorithm = "md5"): Entry {
  const type = entryType(st);
  const entry = {
    name,
    type,
    size: type === "file" ? st.size : 0,
    mtime: Math.max(0, Math.floor(st.mtimeMs)),
  };
  if (!hash || type !== "file") return entry as Entry;
  const { md5, hash: other } = hashFields(alg, hash);
  return (md5 ? { ...entry, md5 } : { ...entry, hash: other }) as Entry;
}
