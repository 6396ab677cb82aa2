import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { createBucket, freeRgwPort, startRgw, stopRgw } from "@ferry/test-fixtures/s3";
import type { ClientOutcome } from "./client-child.js";
import { type BenchContext, withTempDir } from "./context.js";
import { ensureDataFile, ensureSmallFiles } from "./datafile.js";
import { loadConnect } from "./ferry-client.js";
import { startFerryd } from "./ferryd.js";
import { kbToMb, pretouchMemory } from "./memory.js";
import { DATA_DIR } from "./paths.js";
import { inWindow } from "./pool.js";
import { judged } from "./report.js";
import { runClientChild } from "./run-client.js";
import { mbps, median, sizeLabel, timed } from "./stats.js";

/** Room in the RGW's memstore: the big file twice over (an overwrite is freed only by RGW's GC). */
const RGW_SIZE_MB = 8192;
const GROWTH_LIMIT = 1.2;

/**
 * Section s3 (`pnpm bench --storage s3`): ferryd on the S3 backend, against a single-node Ceph RGW
 * (memstore) that the bench starts on 127.0.0.1: the big file put and got (verified; medians of
 * `runs`, server peak RSS each), a small put beside it to show memory flat in file size, and the
 * small files over one pipelined session. Plain TCP, as the other sections.
 */
export async function runS3(ctx: BenchContext): Promise<void> {
  await withTempDir("s3", async (dir) => {
    const rgwDir = join(dir, "rgw");
    ctx.log("s3: starting a Ceph RGW (memstore)");
    process.env.CEPH_RGW_SIZE_MB ??= String(RGW_SIZE_MB);
    const endpoint = await startRgw(rgwDir, await freeRgwPort());
    try {
      await createBucket(endpoint, "ferry-bench");
      const env = {
        AWS_ACCESS_KEY_ID: endpoint.accessKeyId,
        AWS_SECRET_ACCESS_KEY: endpoint.secretAccessKey,
        AWS_REGION: endpoint.region,
      };
      const serve = () =>
        startFerryd({
          storage: "s3://ferry-bench",
          args: ["--s3-endpoint", endpoint.endpoint],
          env,
          nodeArgs: ctx.nodeArgs("ferryd-s3"),
        });
      const transfer = async (op: "put" | "get", local: string, remote: string) => {
        const server = await serve();
        try {
          await pretouchMemory();
          const outcome: ClientOutcome = await runClientChild({
            op,
            host: server.host,
            port: server.port,
            tls: false,
            local,
            remote,
          });
          if (!outcome.ok)
            throw new Error(
              `s3 ${op} failed: ${outcome.code ?? ""} ${outcome.error ?? ""}\n${server.stderr()}`,
            );
          return { outcome, serverPeakMb: server.peakMb() };
        } finally {
          await server.stop();
        }
      };
      await bigFile(ctx, dir, transfer);
      await smallFiles(ctx, dir, serve);
    } finally {
      await stopRgw(rgwDir).catch((err) => ctx.log(`s3: stopping the RGW: ${(err as Error).message}`));
    }
  });
}

type Transfer = (
  op: "put" | "get",
  local: string,
  remote: string,
) => Promise<{ outcome: ClientOutcome; serverPeakMb: number | null }>;

async function bigFile(ctx: BenchContext, dir: string, transfer: Transfer): Promise<void> {
  const { opts, bigFile: file, bigMd5 } = ctx;
  const size = opts.bigSize;
  const section = `s3 big file ${sizeLabel(size)} (ferryd on Ceph RGW)`;
  const download = join(dir, "download.bin");
  const put: number[] = [];
  const get: number[] = [];
  const peaks = { put: [] as number[], get: [] as number[] };
  for (let run = 1; run <= opts.runs; run++) {
    ctx.log(`s3 big file ${sizeLabel(size)}: put run ${run}/${opts.runs}`);
    const p = await transfer("put", file, "big.bin");
    if (p.outcome.md5 !== bigMd5) throw new Error(`s3 put reported ${p.outcome.md5}, expected ${bigMd5}`);
    put.push(p.outcome.seconds);
    if (p.serverPeakMb !== null) peaks.put.push(p.serverPeakMb);
    ctx.log(`s3 big file ${sizeLabel(size)}: get run ${run}/${opts.runs}`);
    const g = await transfer("get", download, "big.bin");
    if (g.outcome.md5 !== bigMd5) throw new Error(`s3 get reported ${g.outcome.md5}, expected ${bigMd5}`);
    get.push(g.outcome.seconds);
    if (g.serverPeakMb !== null) peaks.get.push(g.serverPeakMb);
    await rm(download, { force: true });
  }
  const smallFile = join(DATA_DIR, `data-${opts.memSmallSize}.bin`);
  const smallMd5 = await ensureDataFile(smallFile, opts.memSmallSize, 2);
  ctx.log(`s3: put of ${sizeLabel(opts.memSmallSize)}, for memory against file size`);
  const s = await transfer("put", smallFile, "small.bin");
  if (s.outcome.md5 !== smallMd5)
    throw new Error(`s3 small put reported ${s.outcome.md5}, expected ${smallMd5}`);
  for (const [name, times] of [
    ["put", put],
    ["get", get],
  ] as const) {
    ctx.rows.push({
      section,
      name: `${name} (verified) throughput`,
      value: mbps(size, median(times)),
      unit: "MB/s",
    });
    ctx.rows.push({ section, name: `${name}: server peak RSS`, value: median(peaks[name]), unit: "MB" });
  }
  const bigPeak = median(peaks.put);
  ctx.rows.push({
    section,
    name: `server peak RSS, ${sizeLabel(opts.memSmallSize)} put`,
    value: s.serverPeakMb,
    unit: "MB",
  });
  ctx.rows.push(
    judged(
      {
        section,
        name: `server peak RSS ${sizeLabel(size)} / ${sizeLabel(opts.memSmallSize)} put`,
        value: s.serverPeakMb ? bigPeak / s.serverPeakMb : null,
        unit: "×",
      },
      "<=",
      GROWTH_LIMIT,
      "≤ 1.2",
    ),
  );
  ctx.raw.s3big = {
    put,
    get,
    peaks,
    smallPeak: s.serverPeakMb,
    clientPeakKb: s.outcome.peakKb && kbToMb(s.outcome.peakKb),
  };
}

async function smallFiles(
  ctx: BenchContext,
  dir: string,
  serve: () => ReturnType<typeof startFerryd>,
): Promise<void> {
  const { opts } = ctx;
  const connect = await loadConnect();
  const local = join(DATA_DIR, `small-${opts.smallCount}x${opts.smallSize}`);
  const sums = await ensureSmallFiles(local, opts.smallCount, opts.smallSize);
  const names = [...sums.keys()];
  const section = `s3 small files ${opts.smallCount} × ${sizeLabel(opts.smallSize)}`;
  const back = join(dir, "back");
  await mkdir(back);
  const server = await serve();
  try {
    const session = await connect({
      host: server.host,
      port: server.port,
      tls: false,
      clientName: "ferry-bench",
    });
    try {
      await session.mkdir("s");
      ctx.log(`s3 small files: put ${names.length}, window ${opts.window}`);
      const put = await timed(() =>
        inWindow(names.length, opts.window, async (i) => {
          const name = names[i] as string;
          const r = await session.put(join(local, name), `s/${name}`);
          if (r.md5 !== sums.get(name))
            throw new Error(`put ${name}: md5 ${r.md5}, expected ${sums.get(name)}`);
        }),
      );
      ctx.log(`s3 small files: get ${names.length}, window ${opts.window}`);
      const get = await timed(() =>
        inWindow(names.length, opts.window, async (i) => {
          const name = names[i] as string;
          const r = await session.get(`s/${name}`, join(back, name));
          if (r.md5 !== sums.get(name))
            throw new Error(`get ${name}: md5 ${r.md5}, expected ${sums.get(name)}`);
        }),
      );
      ctx.rows.push({ section, name: "put", value: names.length / put.seconds, unit: "files/s" });
      ctx.rows.push({ section, name: "get", value: names.length / get.seconds, unit: "files/s" });
      ctx.rows.push({ section, name: "server peak RSS", value: server.peakMb(), unit: "MB" });
      ctx.raw.s3small = { put: put.seconds, get: get.seconds, window: opts.window };
    } finally {
      await session.close();
    }
  } finally {
    await server.stop();
  }
}
