import { GiB, MiB } from "./stats.js";

export const SECTIONS = [
  "baselines",
  "big",
  "memory",
  "small",
  "concurrency",
  "list",
  "tls",
  "mirror",
  "peers",
] as const;
export type Section = (typeof SECTIONS)[number];

export interface BenchOptions {
  quick: boolean;
  /** Timed repetitions of the big-file figures (median taken). */
  runs: number;
  sections: Set<Section>;
  /** Write `node --cpu-prof` profiles of ferryd and the client processes to bench/results/profiles. */
  cpuProf: boolean;
  /** Outstanding put()/get() calls on one session in the small-files test. */
  window: number;
  bigSize: number;
  memSmallSize: number;
  smallCount: number;
  smallSize: number;
  clients: number;
  clientPutSize: number;
}

/** Sections a bare `pnpm bench` runs: all but peers, which has its own flag (it takes minutes more). */
const DEFAULT_SECTIONS = SECTIONS.filter((s) => s !== "peers");

export const USAGE = `usage: pnpm bench [--quick] [--runs N] [--only ${SECTIONS.join(",")}] [--peers] [--window N] [--cpu-prof]

  --peers     ferry beside an rsync daemon and OpenSSH sftp (a private sshd), both started on
              127.0.0.1 by the bench, in the same rounds; alone, or with the sections of --only`;

/** Parses the bench's own flags; unknown flags are an error so typos do not silently run the full bench. */
export function parseOptions(argv: readonly string[]): BenchOptions {
  const quick = argv.includes("--quick");
  const opts: BenchOptions = {
    quick,
    runs: quick ? 1 : 3,
    sections: new Set(DEFAULT_SECTIONS),
    cpuProf: false,
    window: 128,
    bigSize: quick ? 64 * MiB : GiB,
    memSmallSize: quick ? 8 * MiB : 64 * MiB,
    smallCount: quick ? 200 : 1000,
    smallSize: 4 * 1024,
    clients: quick ? 50 : 300,
    clientPutSize: 10 * MiB,
  };
  let only: Section[] | null = null;
  let peers = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value\n${USAGE}`);
      return v;
    };
    if (arg === "--quick") continue;
    if (arg === "--cpu-prof") opts.cpuProf = true;
    else if (arg === "--peers") peers = true;
    else if (arg === "--runs") opts.runs = positiveInt(arg, value());
    else if (arg === "--window") opts.window = positiveInt(arg, value());
    else if (arg === "--only") {
      const names = value().split(",");
      for (const n of names) {
        if (!(SECTIONS as readonly string[]).includes(n)) throw new Error(`unknown section ${n}\n${USAGE}`);
      }
      only = names as Section[];
    } else if (arg === "--") {
    } else throw new Error(`unknown option ${arg}\n${USAGE}`);
  }
  if (only !== null || peers)
    opts.sections = new Set([...(only ?? []), ...(peers ? ["peers" as const] : [])]);
  return opts;
}

function positiveInt(flag: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} must be a positive integer`);
  return n;
}
