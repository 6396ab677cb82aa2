import { createRequire } from "node:module";

export const SERVER_NAME = "ferryd";

// package.json is one level above both src/ (tests) and dist/ (the built binary).
const pkg = createRequire(import.meta.url)("../package.json") as { version: string };
export const SERVER_VERSION: string = pkg.version;
