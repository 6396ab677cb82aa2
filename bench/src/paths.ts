import { fileURLToPath } from "node:url";

const here = (relative: string) => fileURLToPath(new URL(relative, import.meta.url));

/** Paths relative to this file's place in bench/dist (or bench/src under vitest). */
export const BENCH_DIR = here("../");
export const DATA_DIR = here("../.data/");
export const RESULTS_DIR = here("../results/");
export const PROFILES_DIR = here("../results/profiles/");
/** BENCH_FERRYD / BENCH_CLIENT point the bench at another build (say, a patched copy) for an A/B run. */
export const FERRYD_BIN = process.env.BENCH_FERRYD ?? here("../../packages/server/bin/ferryd.js");
export const CLIENT_LIB = process.env.BENCH_CLIENT ?? "@ferry/client";
export const FERRY_BIN = here("../../packages/client/bin/ferry.js");
export const CLIENT_CHILD = here("./client-child.js");
export const VERIFIED_RECEIVER = here("./verified-copy-receiver.js");
