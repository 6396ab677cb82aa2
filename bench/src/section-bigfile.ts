import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import type { ClientOutcome } from "./client-child.js";
import { type BenchContext, withTempDir } from "./context.js";
import { md5File } from "./datafile.js";
import { startFerryd, tlsOf } from "./ferryd.js";
import { kbToMb, pretouchMemory } from "./memory.js";
import { judged } from "./report.js";
import { runClientChild } from "./run-client.js";
import { GiB, mbps, median, sizeLabel } from "./stats.js";

export const SERVER_RSS_LIMIT_MB = 80;

const fmt = (after: number | null, before: number | null) =>
  after !== null && before !== null ? (after - before).toFixed(2) : "?";

/** One verified transfer against a fresh ferryd, client in its own process; returns timing and both peaks. */
export async function transferOnce(
  ctx: BenchContext,
  op: "put" | "get",
  root: string,
  local: string,
  serverArgs: string[],
  /** Untimed work against the same server first (say, a put that leaves the md5 in its cache). */
  before?: (server: { host: string; port: number }) => Promise<void>,
  /** TLS (the server's pinned certificate) instead of plain TCP. */
  tls = false,
): Promise<{ outcome: ClientOutcome; serverPeakMb: number | null; serverCpuSeconds: number | null }> {
  const server = await startFerryd({ root, args: serverArgs, tls, nodeArgs: ctx.nodeArgs(`ferryd-${op}`) });
  try {
    await before?.(server);
    await pretouchMemory();
    const cpuBefore = server.cpuSeconds();
    const sysBefore = server.cpuSeconds("system");
    const outcome = await runClientChild(
      { op, host: server.host, port: server.port, tls: tlsOf(server), local, remote: "big.bin" },
      ctx.nodeArgs(`client-${op}`),
    );
    if (!outcome.ok)
      throw new Error(`${op} failed: ${outcome.code ?? ""} ${outcome.error ?? ""}\n${server.stderr()}`);
    const cpuAfter = server.cpuSeconds();
    const sysAfter = server.cpuSeconds("system");
    ctx.log(
      `  ${op}${tls ? " (TLS)" : ""}: server CPU ${fmt(cpuAfter, cpuBefore)} s (system ${fmt(sysAfter, sysBefore)}), client CPU ${outcome.cpuSeconds?.toFixed(2)} s (system ${outcome.systemSeconds?.toFixed(2)}), wall ${outcome.seconds.toFixed(2)} s`,
    );
    const serverCpuSeconds = cpuBefore !== null && cpuAfter !== null ? cpuAfter - cpuBefore : null;
    return { outcome, serverPeakMb: server.peakMb(), serverCpuSeconds };
  } finally {
    await server.stop();
  }
}

/** Section 2: verified put and get of the big file, medians of `runs`, ratios to the same run's md5sum. */
export async function runBigFile(ctx: BenchContext): Promise<void> {
  const { opts, bigFile, bigMd5 } = ctx;
  const size = opts.bigSize;
  const label = sizeLabel(size);
  const put: number[] = [];
  const get: number[] = [];
  const cpu = { put: [] as number[], get: [] as number[] };
  const cpuOf = (r: Awaited<ReturnType<typeof transferOnce>>) =>
    (r.serverCpuSeconds ?? 0) + (r.outcome.cpuSeconds ?? 0);
  const peaks = {
    serverPut: [] as number[],
    clientPut: [] as number[],
    serverGet: [] as number[],
    clientGet: [] as number[],
  };
  const collect = (list: number[], mb: number | null) => {
    if (mb !== null) list.push(mb);
  };
  let independentCheck = false;
  await withTempDir("big", async (dir) => {
    const root = join(dir, "root");
    const download = join(dir, "download.bin");
    await mkdir(root);
    for (let run = 1; run <= opts.runs; run++) {
      ctx.log(`big file ${label}: put run ${run}/${opts.runs}`);
      const p = await transferOnce(ctx, "put", root, bigFile, ["--no-fsync"]);
      if (p.outcome.md5 !== bigMd5 || p.outcome.size !== size)
        throw new Error(`put reported ${p.outcome.md5}, expected ${bigMd5}`);
      put.push(p.outcome.seconds);
      cpu.put.push(cpuOf(p));
      collect(peaks.serverPut, p.serverPeakMb);
      collect(peaks.clientPut, kbToMb(p.outcome.peakKb));

      ctx.log(`big file ${label}: get run ${run}/${opts.runs}`);
      const g = await transferOnce(ctx, "get", root, download, ["--no-fsync"]);
      if (g.outcome.md5 !== bigMd5 || g.outcome.size !== size)
        throw new Error(`get reported ${g.outcome.md5}, expected ${bigMd5}`);
      get.push(g.outcome.seconds);
      cpu.get.push(cpuOf(g));
      collect(peaks.serverGet, g.serverPeakMb);
      collect(peaks.clientGet, kbToMb(g.outcome.peakKb));

      if (run === 1) {
        // Outside the timing: hash both copies ourselves rather than trust what the two sides reported.
        const [stored, fetched] = await Promise.all([md5File(join(root, "big.bin")), md5File(download)]);
        independentCheck = stored === bigMd5 && fetched === bigMd5;
        if (!independentCheck)
          throw new Error(`copies differ from the source: stored ${stored}, fetched ${fetched}`);
      }
      await rm(download, { force: true });
    }
    let fsyncPut: number | null = null;
    let warmGet: number | null = null;
    if (!opts.quick) {
      ctx.log(`big file ${label}: get from the server that just stored it (md5 cached)`);
      const w = await transferOnce(ctx, "get", root, download, ["--no-fsync"], async (server) => {
        const p = await runClientChild({
          op: "put",
          host: server.host,
          port: server.port,
          local: bigFile,
          remote: "big.bin",
        });
        if (!p.ok) throw new Error(`put before the warm get failed: ${p.code} ${p.error}`);
      });
      if (w.outcome.md5 !== bigMd5) throw new Error(`warm get reported ${w.outcome.md5}, expected ${bigMd5}`);
      warmGet = w.outcome.seconds;
      await rm(download, { force: true });
      ctx.log(`big file ${label}: one put with fsync on (server default)`);
      const f = await transferOnce(ctx, "put", root, bigFile, []);
      fsyncPut = f.outcome.seconds;
    }
    ctx.raw.big = { put, get, cpu, peaks, fsyncPut, warmGet, independentCheck };
    const section = `2 big file ${label}`;
    const ref = ctx.baseline.md5sumMbps;
    for (const [name, times] of [
      ["put", put],
      ["get", get],
    ] as const) {
      const seconds = median(times);
      const rate = mbps(size, seconds);
      ctx.rows.push({
        section,
        name: `${name} (verified, server --no-fsync) wall`,
        value: seconds,
        unit: "s",
      });
      ctx.rows.push({ section, name: `${name} throughput`, value: rate, unit: "MB/s" });
      ctx.rows.push(
        judged(
          { section, name: `${name} ratio to md5sum`, value: ref === null ? null : rate / ref, unit: "×" },
          ">=",
          0.8,
          "≥ 0.8",
        ),
      );
      const cpuPerGiB = (median(cpu[name]) * GiB) / size;
      const md5Cpu = ctx.baseline.md5CpuPerGiB;
      ctx.rows.push({
        section,
        name: `${name} CPU time per GiB, server + client`,
        value: cpuPerGiB,
        unit: "CPU s",
        note:
          md5Cpu === null
            ? undefined
            : `${(cpuPerGiB / md5Cpu).toFixed(2)} × one node md5 pass (a verified transfer hashes twice: 2 × is the floor)`,
      });
      const verified = ctx.baseline.verifiedCopyMbps;
      if (verified !== null) {
        ctx.rows.push({
          section,
          name: `${name} ratio to the verified-copy baseline`,
          value: rate / verified,
          unit: "×",
        });
      }
    }
    if (warmGet !== null) {
      ctx.rows.push({
        section,
        name: "get, md5 already cached by the server (1 run)",
        value: mbps(size, warmGet),
        unit: "MB/s",
        note: "the server that stored the file knows its md5 and does not hash it again; informational",
      });
    }
    if (fsyncPut !== null) {
      ctx.rows.push({
        section,
        name: "put with fsync on (1 run) throughput",
        value: mbps(size, fsyncPut),
        unit: "MB/s",
        note: "includes flushing the file to disk; informational",
      });
    }
    const peak = (list: number[]) => (list.length > 0 ? Math.max(...list) : null);
    ctx.bigPutPeak = { server: peak(peaks.serverPut), client: peak(peaks.clientPut) };
    const rss = (name: string, list: number[]) =>
      ctx.rows.push(
        judged({ section, name, value: peak(list), unit: "MB" }, "<", SERVER_RSS_LIMIT_MB, "< 80"),
      );
    rss("server peak RSS, put", peaks.serverPut);
    rss("server peak RSS, get", peaks.serverGet);
    rss("client peak RSS, put", peaks.clientPut);
    rss("client peak RSS, get", peaks.clientGet);
    ctx.rows.push(
      judged(
        {
          section,
          name: "stored and fetched copies re-hashed",
          value: independentCheck ? 1 : 0,
          unit: "1 = equal",
        },
        "==",
        1,
        "= 1",
      ),
    );
  });
}
