import { join } from "node:path";
import {
  ensureGenerated,
  GENERATED_FIXTURES,
  type GeneratedFixture,
  generatedEntry,
  md5File,
  readManifest,
  tempDirForTest,
} from "@ferry/test-fixtures";
import { describe, expect, it } from "vitest";
import { describeRun, ferryC, startServer, transferResults } from "./helpers.js";

async function upAndDown(key: keyof typeof GENERATED_FIXTURES): Promise<void> {
  const fixture: GeneratedFixture = GENERATED_FIXTURES[key];
  const entry = generatedEntry(await readManifest(), key);
  const local = await ensureGenerated(fixture);
  const server = await startServer();

  const up = await ferryC(server, `put ${local} big.bin`, { extra: ["--json"] });
  expect(up.code, describeRun(up)).toBe(0);
  expect(await md5File(join(server.root, "big.bin"))).toBe(entry.md5);
  const upResult = transferResults(up.stdout);
  expect(upResult, describeRun(up)).toHaveLength(1);
  expect(upResult[0]).toMatchObject({ transferred: entry.size, size: entry.size, md5: entry.md5 });

  const fresh = await tempDirForTest("ferry-e2e-big-");
  const down = await ferryC(server, "get big.bin", { cwd: fresh, extra: ["--json"] });
  expect(down.code, describeRun(down)).toBe(0);
  expect(await md5File(join(fresh, "big.bin"))).toBe(entry.md5);
  expect(transferResults(down.stdout)[0]).toMatchObject({ transferred: entry.size, md5: entry.md5 });
}

describe("big files", () => {
  it("the 256 MiB fixture goes up and comes back identical", async () => {
    await upAndDown("random256M");
  });

  it.skipIf(process.env.FERRY_E2E_BIG !== "1")(
    "the 1 GiB fixture goes up and comes back identical (FERRY_E2E_BIG=1)",
    async () => {
      await upAndDown("random1G");
    },
    600_000,
  );
});
