import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { type BenchContext, withTempDir } from "./context.js";
import { ensureDataFile } from "./datafile.js";
import { kbToMb } from "./memory.js";
import { DATA_DIR } from "./paths.js";
import { judged } from "./report.js";
import { transferOnce } from "./section-bigfile.js";
import { sizeLabel } from "./stats.js";

const GROWTH_LIMIT = 1.2;

/** Section 3: peak RSS must not grow with file size: a small put against the big put, fresh processes each. */
export async function runMemoryScaling(ctx: BenchContext): Promise<void> {
  const { opts } = ctx;
  const small = join(DATA_DIR, `data-${opts.memSmallSize}.bin`);
  const smallMd5 = await ensureDataFile(small, opts.memSmallSize, 2);
  const section = `3 memory ${sizeLabel(opts.memSmallSize)} vs ${sizeLabel(opts.bigSize)}`;
  await withTempDir("memory", async (dir) => {
    const root = join(dir, "root");
    await mkdir(root);
    ctx.log(`memory: put of ${sizeLabel(opts.memSmallSize)}`);
    const s = await transferOnce(ctx, "put", root, small, ["--no-fsync"]);
    if (s.outcome.md5 !== smallMd5) throw new Error(`put reported ${s.outcome.md5}, expected ${smallMd5}`);
    let big = ctx.bigPutPeak;
    if (big.server === null) {
      ctx.log(`memory: put of ${sizeLabel(opts.bigSize)} (the big-file section did not run)`);
      const b = await transferOnce(ctx, "put", root, ctx.bigFile, ["--no-fsync"]);
      big = { server: b.serverPeakMb, client: kbToMb(b.outcome.peakKb) };
    }
    const smallPeak = { server: s.serverPeakMb, client: kbToMb(s.outcome.peakKb) };
    ctx.raw.memory = { small: smallPeak, big };
    for (const side of ["server", "client"] as const) {
      const a = smallPeak[side];
      const b = big[side];
      ctx.rows.push({
        section,
        name: `${side} peak RSS, ${sizeLabel(opts.memSmallSize)} put`,
        value: a,
        unit: "MB",
      });
      ctx.rows.push({
        section,
        name: `${side} peak RSS, ${sizeLabel(opts.bigSize)} put`,
        value: b,
        unit: "MB",
      });
      ctx.rows.push(
        judged(
          {
            section,
            name: `${side} ratio big/small`,
            value: a !== null && b !== null ? b / a : null,
            unit: "×",
          },
          "<=",
          GROWTH_LIMIT,
          "≤ 1.2",
        ),
      );
    }
  });
}
