import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { type BenchContext, withTempDir } from "./context.js";
import { ensureDataFile, md5File } from "./datafile.js";
import { kbToMb, pretouchMemory } from "./memory.js";
import { DATA_DIR } from "./paths.js";
import { SCP_CIPHER, sshUnavailable, startPrivateSshd } from "./peers/sshd.js";
import { judged } from "./report.js";
import { SERVER_RSS_LIMIT_MB, transferOnce } from "./section-bigfile.js";
import { GiB, mbps, median, sizeLabel } from "./stats.js";

type Op = "put" | "get";
type Way = "plain" | "tls" | "scp";

/**
 * Section 6: the big file over TLS against the same over plain TCP in the same run, and against scp
 * with AES-GCM through a private sshd when OpenSSH is installed; peak RSS over TLS, and that it does
 * not grow with the file.
 */
export async function runTls(ctx: BenchContext): Promise<void> {
  const { opts, bigFile, bigMd5 } = ctx;
  const size = opts.bigSize;
  const section = `6 TLS ${sizeLabel(size)}`;
  const times: Record<Op, Record<Way, number[]>> = {
    put: { plain: [], tls: [], scp: [] },
    get: { plain: [], tls: [], scp: [] },
  };
  const cpu: Record<Op, Record<"plain" | "tls", number[]>> = {
    put: { plain: [], tls: [] },
    get: { plain: [], tls: [] },
  };
  const peaks = {
    serverPut: [] as number[],
    clientPut: [] as number[],
    serverGet: [] as number[],
    clientGet: [] as number[],
  };
  const scpCpu: Record<Op, number[]> = { put: [], get: [] };
  const sshMissing = sshUnavailable();
  if (sshMissing) ctx.log(`tls: scp rows skipped: ${sshMissing}`);

  await withTempDir("tls", async (dir) => {
    const root = join(dir, "root");
    const download = join(dir, "download.bin");
    const sshDir = join(dir, "ssh");
    await mkdir(root);
    await mkdir(sshDir);
    const sshd = sshMissing ? null : await startPrivateSshd(sshDir);
    try {
      for (let run = 1; run <= opts.runs; run++) {
        for (const op of ["put", "get"] as const) {
          for (const tls of [false, true]) {
            const way = tls ? "tls" : "plain";
            ctx.log(`tls: ${op} over ${tls ? "TLS" : "plain TCP"}, run ${run}/${opts.runs}`);
            const local = op === "put" ? bigFile : download;
            const r = await transferOnce(ctx, op, root, local, ["--no-fsync"], undefined, tls);
            if (r.outcome.md5 !== bigMd5 || r.outcome.size !== size) {
              throw new Error(`${op} over ${way} reported ${r.outcome.md5}, expected ${bigMd5}`);
            }
            times[op][way].push(r.outcome.seconds);
            cpu[op][way].push((r.serverCpuSeconds ?? 0) + (r.outcome.cpuSeconds ?? 0));
            if (tls) {
              const [server, client] =
                op === "put" ? [peaks.serverPut, peaks.clientPut] : [peaks.serverGet, peaks.clientGet];
              if (r.serverPeakMb !== null) server.push(r.serverPeakMb);
              const c = kbToMb(r.outcome.peakKb);
              if (c !== null) client.push(c);
            }
            if (op === "get") await rm(download, { force: true });
          }
          if (sshd) {
            ctx.log(`tls: ${op} with scp -c ${SCP_CIPHER}, run ${run}/${opts.runs}`);
            await pretouchMemory();
            const remote = join(root, "scp.bin");
            const r =
              op === "put"
                ? await sshd.scp(bigFile, sshd.remote(remote))
                : await sshd.scp(sshd.remote(remote), download);
            times[op].scp.push(r.seconds);
            if (r.cpuSeconds !== null) scpCpu[op].push(r.cpuSeconds);
            if (run === 1) {
              const copy = await md5File(op === "put" ? remote : download);
              if (copy !== bigMd5) throw new Error(`scp ${op} copy has md5 ${copy}, expected ${bigMd5}`);
            }
            if (op === "get") await rm(download, { force: true });
          }
        }
      }

      // Memory must stay flat in file size over TLS too: the same put of a small file.
      const small = join(DATA_DIR, `data-${opts.memSmallSize}.bin`);
      const smallMd5 = await ensureDataFile(small, opts.memSmallSize, 2);
      ctx.log(`tls: put of ${sizeLabel(opts.memSmallSize)} over TLS (memory)`);
      const s = await transferOnce(ctx, "put", root, small, ["--no-fsync"], undefined, true);
      if (s.outcome.md5 !== smallMd5) throw new Error(`small TLS put reported ${s.outcome.md5}`);
      const smallPeak = { server: s.serverPeakMb, client: kbToMb(s.outcome.peakKb) };
      ctx.raw.tls = { times, cpu, scpCpu, peaks, smallPeak, scpSkipped: sshMissing };
      report(ctx, section, size, times, { ...cpu, scp: scpCpu }, peaks, smallPeak, sshMissing);
    } finally {
      await sshd?.stop();
    }
  });
}

function report(
  ctx: BenchContext,
  section: string,
  size: number,
  times: Record<Op, Record<Way, number[]>>,
  cpu: Record<Op, Record<"plain" | "tls", number[]>> & { scp: Record<Op, number[]> },
  peaks: { serverPut: number[]; clientPut: number[]; serverGet: number[]; clientGet: number[] },
  smallPeak: { server: number | null; client: number | null },
  sshMissing: string | null,
): void {
  const rate = (list: number[]) => (list.length > 0 ? mbps(size, median(list)) : null);
  const peak = (list: number[]) => (list.length > 0 ? Math.max(...list) : null);
  for (const op of ["put", "get"] as const) {
    const plain = rate(times[op].plain);
    const tls = rate(times[op].tls);
    const scp = rate(times[op].scp);
    ctx.rows.push({ section, name: `${op} (verified) over plain TCP`, value: plain, unit: "MB/s" });
    ctx.rows.push({ section, name: `${op} (verified) over TLS 1.3`, value: tls, unit: "MB/s" });
    ctx.rows.push({
      section,
      name: `${op}: TLS / plain TCP`,
      value: tls !== null && plain !== null ? tls / plain : null,
      unit: "×",
    });
    const perGiB = (list: number[]) => (list.length > 0 ? (median(list) * GiB) / size : null);
    const cpuTls = perGiB(cpu[op].tls);
    const cpuPlain = perGiB(cpu[op].plain);
    ctx.rows.push({
      section,
      name: `${op} CPU per GiB over TLS, server + client`,
      value: cpuTls,
      unit: "CPU s",
      note: cpuPlain === null || cpuTls === null ? undefined : `plain TCP: ${cpuPlain.toFixed(2)} CPU s`,
    });
    if (sshMissing) {
      ctx.rows.push({
        section,
        name: `${op} with scp -c ${SCP_CIPHER}`,
        value: null,
        unit: "MB/s",
        note: `skipped: ${sshMissing}`,
      });
      continue;
    }
    ctx.rows.push({
      section,
      name: `${op} with scp -c ${SCP_CIPHER}`,
      value: scp,
      unit: "MB/s",
      note: "private sshd on 127.0.0.1; scp checks SSH's per-packet MAC, not the file end to end",
    });
    ctx.rows.push(
      judged(
        {
          section,
          name: `${op}: ferry over TLS / scp`,
          value: tls !== null && scp !== null ? tls / scp : null,
          unit: "×",
        },
        ">=",
        1,
        "≥ 1",
      ),
    );
    ctx.rows.push({
      section,
      name: `${op} CPU per GiB with scp, sshd + scp + ssh`,
      value: perGiB(cpu.scp[op]),
      unit: "CPU s",
      note: "compare with ferry's TLS row above, which also hashes every byte on both sides",
    });
  }
  const rss = (name: string, value: number | null) =>
    ctx.rows.push(
      judged({ section, name, value, unit: "MB" }, "<", SERVER_RSS_LIMIT_MB, `< ${SERVER_RSS_LIMIT_MB}`),
    );
  rss("server peak RSS, TLS put", peak(peaks.serverPut));
  rss("client peak RSS, TLS put", peak(peaks.clientPut));
  rss("server peak RSS, TLS get", peak(peaks.serverGet));
  rss("client peak RSS, TLS get", peak(peaks.clientGet));
  for (const side of ["server", "client"] as const) {
    const big = peak(side === "server" ? peaks.serverPut : peaks.clientPut);
    const small = smallPeak[side];
    ctx.rows.push(
      judged(
        {
          section,
          name: `${side} peak RSS, TLS put ${sizeLabel(size)} / ${sizeLabel(ctx.opts.memSmallSize)}`,
          value: big !== null && small !== null && small > 0 ? big / small : null,
          unit: "×",
        },
        "<=",
        1.2,
        "≤ 1.2",
      ),
    );
  }
}
