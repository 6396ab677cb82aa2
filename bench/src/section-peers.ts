import { cp, link, mkdir, rm } from "node:fs/promises";
import { basename, join } from "node:path";
import { type BenchContext, withTempDir } from "./context.js";
import { ensureDataFile } from "./datafile.js";
import { pretouchMemory } from "./memory.js";
import { DATA_DIR } from "./paths.js";
import { RSYNC_INSTALL, rsyncUnavailable, startRsyncd } from "./peers/rsyncd.js";
import { type PrivateSshd, SSH_INSTALL, sshUnavailable, startPrivateSshd } from "./peers/sshd.js";
import {
  cell,
  formatPeerTable,
  type PeerFigure,
  type PeerLine,
  ratioCell,
  type ToolId,
} from "./peers/table.js";
import {
  commandTool,
  diskTool,
  ferryTool,
  type Job,
  type Link,
  rsyncTool,
  sftpTool,
  type Tool,
} from "./peers/tools.js";
import { judged } from "./report.js";
import { MiB, median, sizeLabel } from "./stats.js";
import { ensureTree, expectSameFile, expectSameTree } from "./tree.js";

/** 50 ms round trip: 25 ms each way. */
const WAN_ONE_WAY_MS = 25;
/** 200 Mbit/s. */
const PACE_BYTES_PER_SECOND = 25_000_000;
const WAN_FILES = 300;
const PACED_FILE = 64 * MiB;
const SMALL_SIZE = 4 * 1024;

interface RowSpec {
  key: string;
  work: string;
  unit: "files/s" | "MB/s" | "s";
  /** Files (files/s) or bytes (MB/s) a run moves. */
  amount: number;
  link: Link | null;
  tools: ToolId[];
  job: Job;
  /** What the check after each run compares: the original and the copy the run made. */
  check?: { original: string; copy: string; tree: boolean };
  /** The target for ferry (TCP) / rsync, or for ferry's share of the pace. */
  target?: { of: "rsync" | "pace" | "node"; op: ">=" | "<="; limit: number };
}

/**
 * Section 9 (`--peers`): ferry against an rsync daemon and OpenSSH's sftp, in the same rounds,
 * alternating, each run a fresh client process after the memory pre-touch, every copy checked byte
 * for byte after its run. Prints the table and keeps every figure in latest.json's `peers`.
 */
export async function runPeers(ctx: BenchContext): Promise<void> {
  const { opts } = ctx;
  const count = opts.smallCount;
  const wanCount = opts.quick ? 60 : WAN_FILES;
  const pacedSize = opts.quick ? 16 * MiB : PACED_FILE;
  const tree = join(DATA_DIR, `peers-${count}x${SMALL_SIZE}`);
  const wanTree = join(DATA_DIR, `peers-${wanCount}x${SMALL_SIZE}`);
  const paced = join(DATA_DIR, `data-${pacedSize}.bin`);
  await ensureTree(tree, count, SMALL_SIZE);
  await ensureTree(wanTree, wanCount, SMALL_SIZE);
  await ensureDataFile(paced, pacedSize, 2);
  const rsyncMissing = rsyncUnavailable();
  const sshMissing = sshUnavailable();

  await withTempDir("peers", async (dir) => {
    const root = join(dir, "root");
    const back = join(dir, "back");
    await mkdir(root);
    await mkdir(back);
    await mkdir(join(dir, "ssh"));
    // The downloads' sources, served by every daemon from the one root.
    await cp(tree, join(root, "served-small"), { recursive: true });
    await cp(wanTree, join(root, "served-wan"), { recursive: true });
    await linkOrCopy(ctx.bigFile, join(root, "served-big.bin"));
    await linkOrCopy(paced, join(root, "served-paced.bin"));

    const rsyncd = rsyncMissing ? null : await startRsyncd(dir, root);
    let sshd: PrivateSshd | null = null;
    try {
      sshd = sshMissing ? null : await startPrivateSshd(join(dir, "ssh"));
      const ferry = (id: ToolId, tls: boolean, fsync: boolean, hash?: "xxh128") =>
        ferryTool({ id, root, tls, fsync, nodeArgs: ctx.nodeArgs, ...(hash ? { hash } : {}) });
      const tools = new Map<ToolId, Tool>([
        ["ferry-tcp", ferry("ferry-tcp", false, false)],
        ["ferry-tls", ferry("ferry-tls", true, false)],
        ["ferry-fsync", ferry("ferry-fsync", false, true)],
        ["ferry-xxh", ferry("ferry-xxh", false, false, "xxh128")],
        ["node", commandTool("node", process.execPath, ["-e", "0"])],
        ["md5sum", commandTool("md5sum", "md5sum", [ctx.bigFile])],
        ["disk", diskTool("disk", root)],
      ]);
      if (rsyncd) {
        tools.set("rsync", rsyncTool("rsync", rsyncd.port, null));
        tools.set("rsync-md5", rsyncTool("rsync-md5", rsyncd.port, "md5"));
      }
      if (sshd) tools.set("sftp", sftpTool("sftp", sshd, root));
      const missing = (id: ToolId): string | null =>
        id.startsWith("rsync")
          ? rsyncMissing && `rsync not installed: ${RSYNC_INSTALL}`
          : id === "sftp"
            ? sshMissing && `not runnable: ${sshMissing} (${SSH_INSTALL})`
            : null;

      const specs = rowSpecs({
        count,
        wanCount,
        pacedSize,
        bigSize: opts.bigSize,
        tree,
        wanTree,
        root,
        back,
      });
      const figures: PeerFigure[] = [];
      for (const spec of specs) {
        const seconds = new Map<ToolId, number[]>(spec.tools.map((t) => [t, []]));
        const transfer = new Map<ToolId, number[]>();
        for (let round = 0; round < opts.runs; round++) {
          // Alternate who goes first, so no tool always runs on the heels of the same one.
          const order = spec.tools.map((_, i) => spec.tools[(i + round) % spec.tools.length] as ToolId);
          for (const id of order) {
            const tool = tools.get(id);
            if (!tool) continue;
            ctx.log(`peers: ${spec.work}: ${id}, run ${round + 1}/${opts.runs}`);
            const prepared = await tool.prepare(spec.job, spec.link);
            let result: Awaited<ReturnType<typeof prepared.run>>;
            try {
              await pretouchMemory();
              result = await prepared.run();
            } finally {
              await prepared.close();
            }
            seconds.get(id)?.push(result.seconds);
            if (result.transferSeconds !== undefined)
              transfer.set(id, [...(transfer.get(id) ?? []), result.transferSeconds]);
            if (spec.check) {
              await (spec.check.tree ? expectSameTree : expectSameFile)(spec.check.original, spec.check.copy);
              await rm(spec.check.copy, { recursive: true, force: true });
            }
          }
        }
        figures.push(...figuresOf(spec, seconds, transfer, missing));
      }
      crossRatios(specs, figures);
      ctx.peers.push(...figures);
      ctx.peersTable = formatPeerTable(linesOf(specs, figures));
      pushTargets(ctx, specs, figures);
      ctx.raw.peers = { sizes: { count, wanCount, pacedSize, bigSize: opts.bigSize }, runs: opts.runs };
    } finally {
      await sshd?.stop();
      await rsyncd?.stop();
    }
  });
}

interface Places {
  count: number;
  wanCount: number;
  pacedSize: number;
  bigSize: number;
  tree: string;
  wanTree: string;
  root: string;
  back: string;
}

function rowSpecs(p: Places): RowSpec[] {
  const n = (x: number) => x.toLocaleString("en-US");
  const small = `${n(p.count)} × ${sizeLabel(SMALL_SIZE)}`;
  const wan = `${n(p.wanCount)} × ${sizeLabel(SMALL_SIZE)}`;
  const big = sizeLabel(p.bigSize);
  const wanLink: Link = { delayMs: WAN_ONE_WAY_MS };
  const pacedLink: Link = { delayMs: WAN_ONE_WAY_MS, rateBytesPerSecond: PACE_BYTES_PER_SECOND };
  const four: ToolId[] = ["ferry-tcp", "rsync", "ferry-tls", "sftp"];
  const md5: ToolId[] = ["ferry-tcp", "rsync-md5", "ferry-tls", "sftp"];
  // The small-file rows time the disk alone beside the tools (diskTool).
  const smallFiles: ToolId[] = [...four, "disk"];
  const up = (src: string) => ({ original: src, copy: join(p.root, basename(src)), tree: true });
  const down = (name: string, original: string, tree: boolean) => ({
    original,
    copy: join(p.back, name),
    tree,
  });
  const bigUp = { kind: "file-up", src: "", name: "up-big.bin" } as const;
  return [
    {
      key: "small-up",
      work: `${small} up (\`mput -r\` / \`rsync -r\` / \`put -r\`)`,
      unit: "files/s",
      amount: p.count,
      link: null,
      tools: smallFiles,
      job: { kind: "tree-up", src: p.tree },
      check: up(p.tree),
      target: { of: "rsync", op: ">=", limit: 1 },
    },
    {
      key: "small-down",
      work: `${small} down (\`mget -r\` / \`rsync -r\` / \`get -r\`)`,
      unit: "files/s",
      amount: p.count,
      link: null,
      tools: smallFiles,
      job: { kind: "tree-down", name: "served-small", dest: p.back },
      check: down("served-small", p.tree, true),
      target: { of: "rsync", op: ">=", limit: 1 },
    },
    {
      key: "small-up-fsync",
      work: `${small} up, ferryd fsync on (ratio to the --no-fsync rsync row above)`,
      unit: "files/s",
      amount: p.count,
      link: null,
      tools: ["ferry-fsync"],
      job: { kind: "tree-up", src: p.tree },
      check: up(p.tree),
    },
    {
      key: "wan-up",
      work: `${wan} up through a 50 ms round-trip link`,
      unit: "files/s",
      amount: p.wanCount,
      link: wanLink,
      tools: smallFiles,
      job: { kind: "tree-up", src: p.wanTree },
      check: up(p.wanTree),
      target: { of: "rsync", op: ">=", limit: 1.5 },
    },
    {
      key: "wan-down",
      work: `${wan} down through a 50 ms round-trip link`,
      unit: "files/s",
      amount: p.wanCount,
      link: wanLink,
      tools: smallFiles,
      job: { kind: "tree-down", name: "served-wan", dest: p.back },
      check: down("served-wan", p.wanTree, true),
      target: { of: "rsync", op: ">=", limit: 1.5 },
    },
    {
      key: "paced-up",
      work: `${sizeLabel(p.pacedSize)} up through 50 ms paced to 200 Mbit/s`,
      unit: "MB/s",
      amount: p.pacedSize,
      link: pacedLink,
      tools: four,
      job: { kind: "file-up", src: join(DATA_DIR, `data-${p.pacedSize}.bin`), name: "up-paced.bin" },
      check: {
        original: join(DATA_DIR, `data-${p.pacedSize}.bin`),
        copy: join(p.root, "up-paced.bin"),
        tree: false,
      },
      target: { of: "pace", op: ">=", limit: 0.9 },
    },
    {
      key: "paced-down",
      work: `${sizeLabel(p.pacedSize)} down through 50 ms paced to 200 Mbit/s`,
      unit: "MB/s",
      amount: p.pacedSize,
      link: pacedLink,
      tools: four,
      job: { kind: "file-down", name: "served-paced.bin", dest: p.back },
      check: down("served-paced.bin", join(DATA_DIR, `data-${p.pacedSize}.bin`), false),
      target: { of: "pace", op: ">=", limit: 0.9 },
    },
    {
      key: "big-up",
      work: `${big} up, md5-verified (rsync \`--checksum-choice=md5\`; sftp unverified)`,
      unit: "MB/s",
      amount: p.bigSize,
      link: null,
      tools: md5,
      job: { ...bigUp, src: join(p.root, "served-big.bin") },
      check: { original: join(p.root, "served-big.bin"), copy: join(p.root, "up-big.bin"), tree: false },
      target: { of: "rsync", op: ">=", limit: 1.2 },
    },
    {
      key: "big-down",
      work: `${big} down, md5-verified (sftp unverified)`,
      unit: "MB/s",
      amount: p.bigSize,
      link: null,
      tools: md5,
      job: { kind: "file-down", name: "served-big.bin", dest: p.back },
      check: down("served-big.bin", join(p.root, "served-big.bin"), false),
      target: { of: "rsync", op: ">=", limit: 1.2 },
    },
    {
      key: "big-up-xxh",
      work: `${big} up, xxh128-verified (ferry \`--hash xxh128\`, rsync's default)`,
      unit: "MB/s",
      amount: p.bigSize,
      link: null,
      tools: ["ferry-xxh", "rsync"],
      job: { ...bigUp, src: join(p.root, "served-big.bin") },
      check: { original: join(p.root, "served-big.bin"), copy: join(p.root, "up-big.bin"), tree: false },
      target: { of: "rsync", op: ">=", limit: 1 },
    },
    {
      key: "big-down-xxh",
      work: `${big} down, xxh128-verified (ferry \`--hash xxh128\`, rsync's default)`,
      unit: "MB/s",
      amount: p.bigSize,
      link: null,
      tools: ["ferry-xxh", "rsync"],
      job: { kind: "file-down", name: "served-big.bin", dest: p.back },
      check: down("served-big.bin", join(p.root, "served-big.bin"), false),
      target: { of: "rsync", op: ">=", limit: 1 },
    },
    {
      key: "md5sum",
      work: `md5sum of the same ${big} file`,
      unit: "MB/s",
      amount: p.bigSize,
      link: null,
      tools: ["md5sum"],
      job: { kind: "startup" },
    },
    {
      key: "startup",
      work: "start-up: `ferry HOST -c pwd` (ratio to bare `node -e 0`)",
      unit: "s",
      amount: 1,
      link: null,
      tools: ["ferry-tcp", "ferry-tls", "node"],
      job: { kind: "startup" },
      target: { of: "node", op: "<=", limit: 2 },
    },
  ];
}

type Missing = (id: ToolId) => string | null;

/** Medians, units and ratios of one row's runs. */
function figuresOf(
  spec: RowSpec,
  seconds: Map<ToolId, number[]>,
  transfer: Map<ToolId, number[]>,
  missing: Missing,
): PeerFigure[] {
  const value = (list: number[]) => {
    if (list.length === 0) return null;
    const s = median(list);
    return spec.unit === "s" ? s : spec.unit === "files/s" ? spec.amount / s : spec.amount / 1e6 / s;
  };
  const out: PeerFigure[] = spec.tools.map((tool) => {
    const list = seconds.get(tool) ?? [];
    const why = list.length === 0 ? missing(tool) : null;
    const t = transfer.get(tool);
    const note =
      why ??
      (t && spec.unit === "MB/s"
        ? `transfer alone (ferry's --json): ${value(t)?.toFixed(1)} MB/s`
        : undefined);
    return {
      row: spec.work,
      tool,
      value: value(list),
      unit: spec.unit,
      ratio: null,
      seconds: list,
      ...(note ? { note } : {}),
    };
  });
  const of = (tool: ToolId) => out.find((f) => f.tool === tool);
  const ratio = (ferry: PeerFigure | undefined, peer: PeerFigure | undefined) => {
    if (!ferry || !peer || ferry.value === null || peer.value === null) return;
    ferry.ratio = ferry.value / peer.value;
    ferry.ratioTo = peer.tool;
  };
  ratio(of("ferry-tcp"), of("rsync") ?? of("rsync-md5"));
  ratio(of("ferry-xxh"), of("rsync"));
  ratio(of("ferry-tls"), of("sftp"));
  ratio(of("ferry-tcp"), of("node"));
  ratio(of("ferry-tls"), of("node"));
  return out;
}

/** Ratios across rows: the fsync row against rsync's small-file row. */
function crossRatios(specs: readonly RowSpec[], figures: PeerFigure[]): void {
  const find = (key: string, tool: ToolId) =>
    figures.find((f) => f.row === specs.find((s) => s.key === key)?.work && f.tool === tool);
  const fsync = find("small-up-fsync", "ferry-fsync");
  const rsyncSmall = find("small-up", "rsync");
  if (fsync?.value && rsyncSmall?.value) {
    fsync.ratio = fsync.value / rsyncSmall.value;
    fsync.ratioTo = "rsync";
  }
}

function linesOf(specs: readonly RowSpec[], figures: readonly PeerFigure[]): PeerLine[] {
  return specs.map((spec) => {
    const f = (tool: ToolId) => figures.find((x) => x.row === spec.work && x.tool === tool);
    const ferry = f("ferry-tcp") ?? f("ferry-xxh") ?? f("ferry-fsync") ?? f("md5sum");
    const tls = f("ferry-tls");
    const rsync = f("rsync") ?? f("rsync-md5");
    const notes: string[] = [];
    const startup = spec.key === "startup";
    if (spec.target?.of === "pace") {
      const share = (x: PeerFigure | undefined) =>
        x?.value ? `${((x.value * 1e6 * 100) / PACE_BYTES_PER_SECOND).toFixed(0)} %` : "n/a";
      notes.push(
        `share of the pace: ferry ${share(ferry)}, rsync ${share(rsync)}, ferry TLS ${share(tls)}, sftp ${share(f("sftp"))}`,
      );
    }
    if (startup)
      notes.push(
        `node -e 0: ${cell(f("node"))}; ferry / node ${ratioCell(ferry?.ratio)}, ferry TLS / node ${ratioCell(tls?.ratio)}`,
      );
    const disk = f("disk");
    if (disk)
      notes.push(
        `the disk alone (one synchronous create/write/rename loop, no network, no start-up): ${cell(disk)}`,
      );
    for (const x of [ferry, tls]) if (x?.note && x.tool !== "md5sum") notes.push(`${x.tool}: ${x.note}`);
    return {
      work: spec.work,
      cells: {
        ...(ferry ? { ferryTcp: cell(ferry) } : {}),
        ...(rsync ? { rsync: cell(rsync) } : {}),
        ...(tls ? { ferryTls: cell(tls) } : {}),
        ...(f("sftp") ? { sftp: cell(f("sftp")) } : {}),
        ratioRsync: startup ? "—" : ratioCell(ferry?.ratio),
        ratioSftp: startup ? "—" : ratioCell(tls?.ratio),
      },
      ...(notes.length > 0 ? { note: notes.join("; ") } : {}),
    };
  });
}

/** The targets as judged rows of the main table. */
function pushTargets(ctx: BenchContext, specs: readonly RowSpec[], figures: readonly PeerFigure[]): void {
  const section = "9 peers";
  for (const spec of specs) {
    const t = spec.target;
    if (!t) continue;
    const ferry = figures.find(
      (f) => f.row === spec.work && (f.tool === "ferry-tcp" || f.tool === "ferry-xxh"),
    );
    let value: number | null;
    let name: string;
    if (t.of === "pace") {
      value = ferry?.value ? (ferry.value * 1e6) / PACE_BYTES_PER_SECOND : null;
      name = `ferry's share of the pace, ${spec.work}`;
    } else if (t.of === "node") {
      value = ferry?.ratio ?? null;
      name = "ferry -c pwd / node -e 0";
    } else {
      value = ferry?.ratio ?? null;
      name = `ferry / rsync, ${spec.work}`;
    }
    const label = `${t.op === ">=" ? "≥" : "≤"} ${t.limit}`;
    ctx.rows.push(judged({ section, name, value, unit: "×" }, t.op, t.limit, label));
  }
}

async function linkOrCopy(from: string, to: string): Promise<void> {
  await link(from, to).catch(() => cp(from, to));
}
