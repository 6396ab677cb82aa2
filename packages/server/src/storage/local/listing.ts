import type { Stats } from "node:fs";
import { opendir } from "node:fs/promises";
import { FerryError, MAX_NAME_BYTES } from "@ferry/protocol";
import { errnoOf } from "../../fs-errors.js";
import type { ListBudget, ListShare } from "../list-budget.js";
import { NameArena, SORT_SCRATCH_PER_NAME } from "./name-arena.js";
import { STAGING_DIR } from "./sandbox.js";

/**
 * lstat calls in flight at once, and so the entries per batch. More do not list a local disk faster
 * (libuv has 4 threads) but keep more objects alive across scavenges, which grows V8's heap: ten
 * stalled listings of 200,000 entries added ~96 MB of RSS with 128, ~78 MB with 32.
 */
const STAT_BATCH = 32;
/** Directory entries Node reads per system call. */
const DIR_BUFFER_ENTRIES = 1024;

export interface SortedListingOptions {
  /** Shared by every listing of the server; this one's names count in it until it ends. */
  budget: ListBudget;
  /** A directory with more entries is refused with ETOOBIG. */
  maxEntries: number;
  /** lstat of one entry of the directory, by name. */
  lstat(name: string): Promise<Stats>;
}

export interface StatedName {
  name: string;
  stats: Stats;
}

/**
 * The entries of `dir`, sorted by the UTF-8 bytes of their names, lstat'ed a batch at a time as the
 * caller asks for the next batch, so a caller waiting on a slow reader holds the work here too.
 *
 * A first pass only counts the names, so that the listing is admitted whole (its names' memory
 * taken from the budget at once) or refused before it holds anything: EBUSY while other listings
 * hold the budget, ETOOBIG over `maxEntries` or when it could never fit. The second pass keeps the
 * names in a {@link NameArena}; the share is given back when the caller stops, however it stops.
 *
 * Names are read as UTF-8 strings, which Node decodes with U+FFFD in place of any byte that is not
 * UTF-8. Such a name is not the name of anything on disk, so its lstat finds nothing and it is
 * skipped like an entry deleted before its lstat; if a real file does have that name (U+FFFD and
 * all), it is listed once. Names that are not UTF-8 cannot be named by a client anyway.
 */
export async function* sortedListing(dir: string, o: SortedListingOptions): AsyncGenerator<StatedName[]> {
  const counted = await countNames(dir, o);
  const share = o.budget.open();
  try {
    const scratch = counted.names * SORT_SCRATCH_PER_NAME;
    share.take(NameArena.cost(counted.names, counted.bytes) + scratch);
    const names = await readNames(dir, o, counted, share);
    names.sort();
    share.give(scratch);
    let previous = "";
    for (let i = 0; i < names.length; i += STAT_BATCH) {
      const slice: string[] = [];
      for (let j = i; j < Math.min(i + STAT_BATCH, names.length); j++) slice.push(names.name(j));
      const stats = await Promise.all(slice.map((name) => o.lstat(name).catch(vanished)));
      const batch: StatedName[] = [];
      for (let j = 0; j < slice.length; j++) {
        const name = slice[j] as string;
        const st = stats[j];
        if (st && name !== previous) batch.push({ name, stats: st });
        previous = name;
      }
      if (batch.length > 0) yield batch;
    }
  } finally {
    share.close();
  }
}

interface Counted {
  names: number;
  bytes: number;
}

async function countNames(dir: string, o: SortedListingOptions): Promise<Counted> {
  const counted = { names: 0, bytes: 0 };
  await eachName(dir, (name) => {
    counted.names++;
    counted.bytes += Buffer.byteLength(name);
    if (counted.names > o.maxEntries) throw tooMany(o.maxEntries);
  });
  return counted;
}

/** The names into an arena sized by the count; a directory grown since takes more of the budget. */
async function readNames(
  dir: string,
  o: SortedListingOptions,
  counted: Counted,
  share: ListShare,
): Promise<NameArena> {
  const names = new NameArena(counted.names, counted.bytes);
  let reserved = NameArena.cost(counted.names, counted.bytes);
  await eachName(dir, (name) => {
    if (names.length >= o.maxEntries) throw tooMany(o.maxEntries);
    const after = names.size + NameArena.cost(1, Buffer.byteLength(name));
    if (after > reserved) {
      share.take(after - reserved);
      reserved = after;
    }
    names.add(name);
  });
  share.give(reserved - names.size);
  return names;
}

/** Calls `fn` with every name of `dir` that can be listed (see {@link sortedListing}). */
async function eachName(dir: string, fn: (name: string) => void): Promise<void> {
  const handle = await opendir(dir, { bufferSize: DIR_BUFFER_ENTRIES });
  // The loop closes the directory however it ends.
  for await (const dirent of handle) {
    const name = dirent.name;
    // The root's staging folder, or below the root a user's whose root lies inside this one's.
    if (name === STAGING_DIR || Buffer.byteLength(name) > MAX_NAME_BYTES) continue;
    fn(name);
  }
}

function tooMany(max: number): FerryError {
  return new FerryError("ETOOBIG", `the directory has more than ${max} entries, the server's listing limit`, {
    limit: max,
  });
}

/** An entry deleted between readdir and lstat is simply not listed. */
function vanished(err: unknown): Stats | null {
  if (errnoOf(err) === "ENOENT") return null;
  throw err;
}
