// `node --import ./load-log.mjs`: appends every module the process loads to the file named by
// FERRY_LOAD_LOG, one URL a line: ES modules as the loader loads them, CommonJS ones at exit.
import { appendFileSync } from "node:fs";
import { createRequire, register } from "node:module";

const log = process.env.FERRY_LOAD_LOG;
if (log) {
  register(
    `data:text/javascript,${encodeURIComponent(`
      import { appendFileSync } from "node:fs";
      export async function load(url, context, next) {
        appendFileSync(${JSON.stringify(log)}, url + "\\n");
        return next(url, context);
      }`)}`,
  );
  const cache = createRequire(import.meta.url).cache;
  process.on("exit", () => {
    const files = Object.keys(cache).map((file) => `cjs:${file}\n`);
    appendFileSync(log, files.join(""));
  });
}
