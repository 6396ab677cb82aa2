import type { Header } from "./raw-client.js";

/** Paths every server must refuse with EBADPATH, by why. */
export const HOSTILE: Array<[string, string]> = [
  ["..", ".."],
  ["../x", "../x"],
  ["a/../../x", "a/../../x"],
  ["./../x", "./../x"],
  ["/../x", "/../x"],
  ["../canary/secret.txt", "../canary/secret.txt"],
  ["NUL", "a\0b"],
  ["backslash", "a\\b"],
  ["backslash climb", "..\\canary\\secret.txt"],
  ["empty", ""],
  ["empty name", "a//b"],
  ["name over 255 bytes", "n".repeat(256)],
  ["path over 4096 bytes", Array.from({ length: 17 }, () => "p".repeat(250)).join("/")],
  ["invalid UTF-8 (lone surrogate)", "x\udc00y"],
  ["staging folder", ".ferry-staging"],
  ["inside the staging folder", ".ferry-staging/whatever.part"],
];

/** Every request that takes a path, aimed at `p`. */
export function requests(p: string): Header[] {
  return [
    { cmd: "get", path: p },
    { cmd: "list", path: p },
    { cmd: "stat", path: p },
    { cmd: "mkdir", path: p, parents: true },
    { cmd: "delete", path: p, recursive: true },
    { cmd: "rename", from: p, to: "moved" },
    { cmd: "rename", from: "ok.txt", to: p, overwrite: true },
    { cmd: "put", path: p, size: 4, handshake: true, overwrite: true, parents: true },
  ];
}
