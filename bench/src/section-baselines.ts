import { join } from "node:path";
import {
  cpSeconds,
  hasCommand,
  md5sumSeconds,
  nodeMd5Seconds,
  tcpCopySeconds,
  verifiedCopySeconds,
} from "./baselines.js";
import { type BenchContext, withTempDir } from "./context.js";
import { pretouchMemory } from "./memory.js";
import { GiB, mbps, median, sizeLabel } from "./stats.js";

/** Section 1: what md5, the loopback transport and the disk manage on this machine, in this run. */
export async function runBaselines(ctx: BenchContext): Promise<void> {
  const { opts, bigFile, bigMd5 } = ctx;
  const size = opts.bigSize;
  const label = sizeLabel(size);
  const times: Record<string, number[]> = { nodeMd5: [], md5sum: [], tcp: [], verified: [], cp: [] };
  const md5Cpu: number[] = [];
  const md5sum = hasCommand("md5sum");
  await withTempDir("baseline", async (dir) => {
    const copy = join(dir, "copy.bin");
    for (let run = 1; run <= opts.runs; run++) {
      ctx.log(`baselines: run ${run}/${opts.runs}`);
      await pretouchMemory();
      const node = await nodeMd5Seconds(bigFile);
      if (node.md5 !== bigMd5) throw new Error(`test file md5 changed: ${node.md5} != ${bigMd5}`);
      times.nodeMd5?.push(node.seconds);
      md5Cpu.push(node.cpuSeconds);
      if (md5sum) {
        await pretouchMemory();
        times.md5sum?.push((await md5sumSeconds(bigFile)).seconds);
      }
      await pretouchMemory();
      times.tcp?.push(await tcpCopySeconds(bigFile, copy));
      await pretouchMemory();
      times.verified?.push(await verifiedCopySeconds(bigFile, copy));
      await pretouchMemory();
      times.cp?.push(await cpSeconds(bigFile, copy));
    }
  });
  ctx.raw.baselines = { ...times, nodeMd5Cpu: md5Cpu };
  ctx.baseline.md5CpuPerGiB = (median(md5Cpu) * GiB) / size;
  const rate = (key: string) => {
    const t = times[key] ?? [];
    return t.length > 0 ? mbps(size, median(t)) : null;
  };
  ctx.baseline.nodeMd5Mbps = rate("nodeMd5");
  ctx.baseline.md5sumMbps = rate("md5sum");
  ctx.baseline.verifiedCopyMbps = rate("verified");
  const ref = ctx.baseline.md5sumMbps;
  const section = "1 baselines";
  const add = (name: string, key: string, note?: string) => {
    const r = rate(key);
    ctx.rows.push({ section, name: `${name}, ${label}`, value: r, unit: "MB/s", note });
    if (ref !== null && r !== null && key !== "md5sum") {
      ctx.rows.push({ section, name: `  ratio to md5sum`, value: r / ref, unit: "×" });
    }
  };
  add("md5sum", "md5sum", md5sum ? undefined : "md5sum not found on this machine");
  add("node crypto md5, 1 MiB stream", "nodeMd5");
  ctx.rows.push({
    section,
    name: "  node md5 CPU time per GiB",
    value: ctx.baseline.md5CpuPerGiB,
    unit: "CPU s",
    note: "CPU time does not depend on other load on the machine, wall time does",
  });
  add("raw loopback TCP copy file→socket→file", "tcp");
  add("verified copy: 2 processes, inline md5 both sides", "verified");
  add("cp", "cp");
}
