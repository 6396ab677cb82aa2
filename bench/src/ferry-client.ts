import type { connect, mirror } from "@ferry/client";
import { CLIENT_LIB } from "./paths.js";

export type { FerrySession } from "@ferry/client";
export type Connect = typeof connect;
export type Mirror = typeof mirror;

/**
 * The client library's connect(), imported from CLIENT_LIB at run time rather than statically, so
 * that `BENCH_CLIENT` can point an A/B run at another build of the library.
 */
export async function loadConnect(): Promise<Connect> {
  const lib = (await import(CLIENT_LIB)) as { connect?: unknown };
  if (typeof lib.connect !== "function") throw new Error(`${CLIENT_LIB} does not export connect()`);
  return lib.connect as Connect;
}

/** The client library's mirror(), from the same build as loadConnect's. */
export async function loadMirror(): Promise<Mirror> {
  const lib = (await import(CLIENT_LIB)) as { mirror?: unknown };
  if (typeof lib.mirror !== "function") throw new Error(`${CLIENT_LIB} does not export mirror()`);
  return lib.mirror as Mirror;
}
