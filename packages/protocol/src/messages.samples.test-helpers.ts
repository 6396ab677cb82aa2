import type { ClientFrame, ServerFrame } from "./messages.js";

const md5 = "9e107d9d372bb6826bd81d3542a419d6";
const prefixMd5 = "0c0f2ee2d6f7c3a1b1e6d5c4b3a29180";
const challenge = "5f2c8a61d0b34e97a2c6f1e0d9b87a65c4f3e2d1c0b9a8f7e6d5c4b3a2918070";

/** At least one well-formed instance of every message a client sends, with and without optional fields. */
export const clientSamples: ClientFrame[] = [
  { cmd: "hello", id: 0, version: 1, client: "ferry/0.1.0" },
  { cmd: "auth", id: 1, hmac: challenge },
  { cmd: "auth", id: 1, scram: "n,,n=user,r=rOprNGfwEbeRWgbNEkqO" },
  {
    cmd: "put",
    id: 2,
    path: "docs/report.pdf",
    size: 1048576,
    md5,
    alg: "md5",
    overwrite: true,
    parents: true,
    handshake: true,
  },
  { cmd: "put", id: 3, path: "a", size: 0 },
  { cmd: "put", id: 4, path: "big.iso", size: Number.MAX_SAFE_INTEGER, handshake: false },
  { cmd: "get", id: 5, path: "docs/report.pdf" },
  { cmd: "get", id: 6, path: "docs/report.pdf", offset: 524288, prefixMd5, alg: "md5" },
  { cmd: "list", id: 7, path: "/" },
  { cmd: "stat", id: 8, path: "docs/a.txt" },
  { cmd: "mkdir", id: 9, path: "a/b/c", parents: true },
  { cmd: "mkdir", id: 10, path: "x" },
  { cmd: "delete", id: 11, path: "old", recursive: false },
  { cmd: "rename", id: 12, from: "a.txt", to: "b/a.txt", overwrite: false },
  { cmd: "df", id: 13 },
  { cmd: "put", id: 14, path: "log.txt", size: 9000, overwrite: true, handshake: true, resumeTarget: true },
  { cmd: "bye", id: 2 ** 32 - 1 },
  { cmd: "data", id: 2, offset: 0, size: 1048576 },
  { cmd: "data", id: 2, offset: 524288, size: 0 },
  { cmd: "end", id: 3, md5 },
  { cmd: "end", id: 3, md5, alg: "md5" },
];

/** At least one well-formed instance of every message a server sends. */
export const serverSamples: ServerFrame[] = [
  { ok: true, id: 0, type: "hello", version: 1, server: "ferryd/0.1.0", auth: true, challenge },
  { ok: true, id: 0, type: "hello", version: 1, server: "ferryd/0.1.0", auth: false },
  { ok: true, id: 0, type: "hello", version: 1, server: "ferryd/0.1.0", auth: "scram-sha-256" },
  { ok: true, id: 1, type: "ok" },
  { ok: true, id: 1, type: "scram", scram: "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=" },
  { ok: true, id: 3, type: "ready", offset: 0 },
  { ok: true, id: 3, type: "ready", offset: 524288, prefixMd5 },
  { ok: true, id: 3, type: "done", size: 1048576, md5, alg: "md5" },
  { ok: true, id: 3, type: "done", size: 0, md5: "d41d8cd98f00b204e9800998ecf8427e" },
  { ok: true, id: 4, type: "file", size: 1048576, mtime: 1763942400000, offset: 524288, md5, alg: "md5" },
  { ok: true, id: 4, type: "file", size: 12, mtime: 0, offset: 0 },
  {
    ok: true,
    id: 5,
    type: "entries",
    more: false,
    entries: [
      { name: "a.txt", type: "file", size: 12, mtime: 1763942400000, md5 },
      { name: "sub", type: "dir", size: 0, mtime: 1763942400000 },
      { name: "link", type: "symlink", size: 4, mtime: 1 },
      { name: "fifo", type: "other", size: 0, mtime: 2 },
    ],
  },
  { ok: true, id: 5, type: "entries", more: true, entries: [] },
  { ok: true, id: 6, type: "entry", entry: { name: "/", type: "dir", size: 0, mtime: 1763942400000 } },
  { ok: true, id: 13, type: "df", free: 52613349376, total: 105226698752 },
  {
    ok: true,
    id: 13,
    type: "df",
    free: 52613349376,
    total: 105226698752,
    quotaBytes: 10737418240,
    usedBytes: 1288490188,
    quotaFiles: 100000,
    usedFiles: 1234,
  },
  { ok: false, id: 7, code: "ENOENT", message: "no such file or directory: /missing.txt" },
  { ok: false, id: null, code: "ETOOBIG", message: "header too big" },
  { ok: false, id: 0, code: "EBUSY", message: "too many failed logins; wait 1 s", retryAfterMs: 200 },
  { cmd: "data", id: 4, offset: 524288, size: 524288 },
  { cmd: "end", id: 4, md5, alg: "md5" },
];
