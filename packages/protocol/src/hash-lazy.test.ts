import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);

/**
 * A fresh node process (vitest's own module graph would load hash-wasm for other tests) imports the
 * built package with a resolve hook that reports every module URL, so the check sees what the
 * import itself loads. The test task depends on the package's build (turbo.json).
 */
const CHILD = `
import { register } from "node:module";
import { MessageChannel } from "node:worker_threads";
const { port1, port2 } = new MessageChannel();
const seen = [];
port1.on("message", (url) => seen.push(url));
const hooks = 'let port; export function initialize(d) { port = d.port; } ' +
  'export async function resolve(s, c, next) { const r = await next(s, c); port.postMessage(r.url); return r; }';
register("data:text/javascript," + encodeURIComponent(hooks), { data: { port: port2 }, transferList: [port2] });
const loaded = () => new Promise((r) => setTimeout(r, 50)).then(() => seen.some((u) => u.includes("/hash-wasm/")));
const protocol = await import(process.argv[1]);
const afterImport = await loaded();
(await protocol.createDigest("md5")).update(new Uint8Array(8)).digest();
const afterMd5 = await loaded();
(await protocol.createDigest("xxh128")).update(new Uint8Array(8)).digest();
const afterXxh128 = await loaded();
port1.close();
console.log(JSON.stringify({ afterImport, afterMd5, afterXxh128 }));
`;

describe("hash-wasm", () => {
  it("is loaded by the first xxh128, not by importing the package or hashing in md5", async () => {
    const entry = new URL("../dist/index.js", import.meta.url).href;
    const { stdout } = await run(process.execPath, ["--input-type=module", "-e", CHILD, entry], {
      timeout: 30_000,
    });
    expect(JSON.parse(stdout.trim().split("\n").pop() ?? "{}")).toEqual({
      afterImport: false,
      afterMd5: false,
      afterXxh128: true,
    });
  });
});
