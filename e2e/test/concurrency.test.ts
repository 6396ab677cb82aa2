import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { md5File, tempDirForTest, writePseudoRandomFile } from "@ferry/test-fixtures";
import { describe, expect, it } from "vitest";
import { describeRun, ferryC, startServer } from "./helpers.js";

const CLIENTS = 20;
// Sizes around the interesting edges: empty, one byte, a chunk boundary, and a couple of MiB.
const SIZES = [0, 1, 65536, 65537, 2 * 1024 * 1024 + 3];

describe("concurrency", () => {
  it(`${CLIENTS} ferry processes at once, each a round trip of its own files`, async () => {
    const server = await startServer();
    const work = await tempDirForTest("ferry-e2e-many-");

    const expected = new Map<string, string>();
    for (let c = 0; c < CLIENTS; c++) {
      const data = join(work, `client-${c}`, "data");
      await mkdir(join(data, "sub"), { recursive: true });
      await mkdir(join(work, `client-${c}`, "back"));
      for (const [i, size] of SIZES.entries()) {
        const rel = i % 2 === 0 ? `file-${i}.bin` : `sub/file-${i}.bin`;
        const path = join(data, rel);
        await writePseudoRandomFile(path, `client ${c} file ${i}`, size);
        expected.set(`${c}/${rel}`, await md5File(path));
      }
    }

    const runs = await Promise.all(
      Array.from({ length: CLIENTS }, (_, c) =>
        ferryC(server, `mkdir c${c}; cd c${c}; mput -r data; lcd back; mget -r data`, {
          cwd: join(work, `client-${c}`),
          timeoutMs: 180_000,
        }),
      ),
    );
    for (const r of runs) expect(r.code, describeRun(r)).toBe(0);

    for (const [key, md5] of expected) {
      const [c, rel] = [key.slice(0, key.indexOf("/")), key.slice(key.indexOf("/") + 1)];
      expect({ key, md5: await md5File(join(server.root, `c${c}`, "data", rel)) }).toEqual({ key, md5 });
      expect({ key, md5: await md5File(join(work, `client-${c}`, "back", "data", rel)) }).toEqual({
        key,
        md5,
      });
    }
  });
});
