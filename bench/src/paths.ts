import { fileURLToPath } from "node:url";

const here = (relative: string) => fileURLToPath(new URL(relative, import.meta.url));

/** Paths relative to this file's place in bench/dist (or bench/src under vitest). */
export const BENCH_DIR = here("../");
export const DATA_DIR = here("../.data/");
export const RESULTS_DIR = here("../results/");
export const PROFILES_DIR = here("../results/profiles/");
export const FERRYD_BIN = here("../../packages/server/bin/ferryd.js");
export const FERRY_BIN = here("../../packages/client/bin/ferry.js");
export const CLIENT_CHILD = here("./client-child.js");
export const VERIFIED_RECEIVER = here("./verified-copy-receiver.js");
