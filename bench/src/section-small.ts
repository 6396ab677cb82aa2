import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { type BenchContext, withTempDir } from "./context.js";
import { ensureSmallFiles } from "./datafile.js";
import { loadConnect } from "./ferry-client.js";
import { startFerryd } from "./ferryd.js";
import { pretouchMemory } from "./memory.js";
import { DATA_DIR } from "./paths.js";
import { inWindow } from "./pool.js";
import { judged } from "./report.js";
import { sizeLabel, timed } from "./stats.js";

const FILES_PER_SECOND_TARGET = 2000;

/**
 * Section 4: many small files over one session, `window` put()/get() calls in flight (the library
 * pipelines them), with the server's fsync on (its default) and off. Every file's md5 is checked.
 */
export async function runSmallFiles(ctx: BenchContext): Promise<void> {
  const { opts } = ctx;
  const connect = await loadConnect();
  const local = join(DATA_DIR, `small-${opts.smallCount}x${opts.smallSize}`);
  const sums = await ensureSmallFiles(local, opts.smallCount, opts.smallSize);
  const names = [...sums.keys()];
  const section = `4 small files ${opts.smallCount} × ${sizeLabel(opts.smallSize)}`;
  const raw: Record<string, { put: number; get: number; serverCpuMsPerFile: { put: number; get: number } }> =
    {};
  for (const fsync of [true, false]) {
    const mode = fsync ? "fsync on" : "--no-fsync";
    await withTempDir("small", async (dir) => {
      const root = join(dir, "root");
      const back = join(dir, "back");
      await mkdir(root);
      await mkdir(back);
      const server = await startFerryd({
        root,
        args: fsync ? [] : ["--no-fsync"],
        nodeArgs: ctx.nodeArgs("ferryd-small"),
      });
      try {
        const session = await connect({
          host: server.host,
          port: server.port,
          tls: false,
          clientName: "ferry-bench",
        });
        try {
          await session.mkdir("s");
          await pretouchMemory();
          ctx.log(`small files (${mode}): put ${names.length}, window ${opts.window}`);
          const cpu0 = server.cpuSeconds() ?? 0;
          const put = await timed(() =>
            inWindow(names.length, opts.window, async (i) => {
              const name = names[i] as string;
              const r = await session.put(join(local, name), `s/${name}`);
              if (r.md5 !== sums.get(name))
                throw new Error(`put ${name}: md5 ${r.md5}, expected ${sums.get(name)}`);
            }),
          );
          const cpu1 = server.cpuSeconds() ?? 0;
          ctx.log(`small files (${mode}): get ${names.length}, window ${opts.window}`);
          const get = await timed(() =>
            inWindow(names.length, opts.window, async (i) => {
              const name = names[i] as string;
              const r = await session.get(`s/${name}`, join(back, name));
              if (r.md5 !== sums.get(name))
                throw new Error(`get ${name}: md5 ${r.md5}, expected ${sums.get(name)}`);
            }),
          );
          const cpu2 = server.cpuSeconds() ?? 0;
          // Server CPU per file does not depend on what else the machine runs, unlike files/s: the
          // figure to compare two builds by (BENCH_FERRYD) on a busy machine.
          const cpuMs = {
            put: ((cpu1 - cpu0) * 1000) / names.length,
            get: ((cpu2 - cpu1) * 1000) / names.length,
          };
          raw[mode] = { put: put.seconds, get: get.seconds, serverCpuMsPerFile: cpuMs };
          for (const [dirName, seconds] of [
            ["put", put.seconds],
            ["get", get.seconds],
          ] as const) {
            const row = {
              section,
              name: `${dirName}, ${mode}`,
              value: names.length / seconds,
              unit: "files/s",
            };
            ctx.rows.push(fsync ? row : judged(row, ">=", FILES_PER_SECOND_TARGET, "≥ 2000"));
            ctx.rows.push({
              section,
              name: `${dirName}, ${mode}: server CPU`,
              value: cpuMs[dirName],
              unit: "ms/file",
            });
          }
        } finally {
          await session.close();
        }
      } finally {
        await server.stop();
      }
    });
  }
  ctx.raw.small = { window: opts.window, ...raw };
}
