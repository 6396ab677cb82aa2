/** `pnpm bench [--quick]`: runs the sections, prints one table, writes bench/results/latest.json. */
import { mkdir, writeFile } from "node:fs/promises";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { type BenchContext, nodeArgsFor } from "./context.js";
import { ensureDataFile } from "./datafile.js";
import { type BenchOptions, parseOptions, USAGE } from "./options.js";
import { DATA_DIR, RESULTS_DIR } from "./paths.js";
import { formatTable } from "./report.js";
import { runBaselines } from "./section-baselines.js";
import { runBigFile } from "./section-bigfile.js";
import { runConcurrency } from "./section-concurrency.js";
import { runList } from "./section-list.js";
import { runMemoryScaling } from "./section-memory.js";
import { runMirror } from "./section-mirror.js";
import { runPeers } from "./section-peers.js";
import { runSmallFiles } from "./section-small.js";
import { runTls } from "./section-tls.js";
import { sizeLabel } from "./stats.js";

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  let opts: BenchOptions;
  try {
    opts = parseOptions(argv);
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }
  const started = Date.now();
  const log = (message: string) =>
    process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(1)}s] ${message}\n`);
  const bigFile = join(DATA_DIR, `data-${opts.bigSize}.bin`);
  log(`test file ${sizeLabel(opts.bigSize)}: ${bigFile}`);
  const bigMd5 = await ensureDataFile(bigFile, opts.bigSize);
  const ctx: BenchContext = {
    opts,
    bigFile,
    bigMd5,
    rows: [],
    raw: {},
    peers: [],
    peersTable: null,
    baseline: { md5sumMbps: null, nodeMd5Mbps: null, verifiedCopyMbps: null, md5CpuPerGiB: null },
    bigPutPeak: { server: null, client: null },
    nodeArgs: (role) => nodeArgsFor(opts.cpuProf, role),
    log,
  };
  const failures: string[] = [];
  const sections: [string, (c: BenchContext) => Promise<void>][] = [
    ["baselines", runBaselines],
    ["big", runBigFile],
    ["memory", runMemoryScaling],
    ["small", runSmallFiles],
    ["concurrency", runConcurrency],
    ["list", runList],
    ["tls", runTls],
    ["mirror", runMirror],
    ["peers", runPeers],
  ];
  for (const [name, run] of sections) {
    if (!opts.sections.has(name as never)) continue;
    try {
      await run(ctx);
    } catch (err) {
      // One section failing (say, the client library has not landed yet) must not hide the others.
      const message = err instanceof Error ? err.message : String(err);
      log(`section ${name} failed: ${message}`);
      failures.push(`${name}: ${message.split("\n")[0]}`);
      ctx.rows.push({
        section: name,
        name: "section failed",
        value: null,
        unit: "",
        note: message.split("\n")[0],
      });
    }
  }
  const table = formatTable(ctx.rows);
  const seconds = (Date.now() - started) / 1000;
  const header = `ferry bench${opts.quick ? " --quick" : ""}: ${cpus().length} CPUs, ${(totalmem() / 1e9).toFixed(1)} GB RAM, node ${process.version}, ${seconds.toFixed(0)} s, medians of ${opts.runs} run(s); MB = 10^6 bytes`;
  process.stdout.write(`\n${header}\n\n${table}\n`);
  if (ctx.peersTable !== null)
    process.stdout.write(`\nferry beside its peers (medians of ${opts.runs}):\n\n${ctx.peersTable}\n`);
  await mkdir(RESULTS_DIR, { recursive: true });
  const json = {
    date: new Date().toISOString(),
    quick: opts.quick,
    runs: opts.runs,
    seconds,
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model,
      totalMemBytes: totalmem(),
      node: process.version,
    },
    sizes: {
      bigFile: opts.bigSize,
      memorySmallFile: opts.memSmallSize,
      smallFiles: opts.smallCount,
      smallFileSize: opts.smallSize,
      clients: opts.clients,
      clientPutSize: opts.clientPutSize,
      window: opts.window,
    },
    rows: ctx.rows,
    peers: ctx.peers,
    raw: ctx.raw,
    failures,
  };
  // latest.json is always the last run (its "quick" field says which); full.json/quick.json keep one of each.
  const text = `${JSON.stringify(json, null, 2)}\n`;
  await writeFile(join(RESULTS_DIR, "latest.json"), text);
  await writeFile(join(RESULTS_DIR, opts.quick ? "quick.json" : "full.json"), text);
  return failures.length > 0 ? 1 : 0;
}

process.exitCode = await main();
