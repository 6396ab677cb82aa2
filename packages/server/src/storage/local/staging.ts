import { createHash, randomBytes } from "node:crypto";
import { constants } from "node:fs";
import {
  type FileHandle,
  lstat,
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  unlink,
  writeFile,
} from "node:fs/promises";
import path from "node:path";
import { FerryError, type HashAlgorithm, hashFields, hashOf } from "@ferry/protocol";
import { errnoOf } from "../../fs-errors.js";
import { STAGING_DIR } from "./sandbox.js";

/**
 * What a resumable partial was meant to become; stored beside it. The client's whole-file hash, when
 * it sent one, in `md5` for md5 (and in notes older than other algorithms) or `alg` + `hash`.
 */
export interface PartialMeta {
  path: string;
  size: number;
  md5?: string;
  alg?: HashAlgorithm;
  hash?: string;
}

/** The note of a partial of `rel` for an upload of `spec`. */
export function partialMeta(
  rel: string,
  spec: { size: number; alg: HashAlgorithm; hash?: string },
): PartialMeta {
  const meta: PartialMeta = { path: rel, size: spec.size };
  if (spec.hash !== undefined) Object.assign(meta, hashFields(spec.alg, spec.hash));
  return meta;
}

/** Create a staging file: new, private, never through a symlink. */
export const WRITE_NEW = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/**
 * How long a claim waits for another upload of the same path and size that is still receiving. Its
 * connection may already be gone while the server drains what the kernel buffered (several MB on
 * loopback), so a put that reconnects straight away would otherwise find no partial yet. A truly
 * concurrent upload of the same file only delays the newcomer this long, which then starts from 0.
 */
export const CLAIM_WAIT_MS = 2_000;

/** An upload in progress, as {@link Staging.track} sees it. */
export interface UploadTicket {
  /** The upload lost its connection: it is now saving a partial, which claims wait for in full. */
  lost(): void;
  /** The upload is over (committed, kept or discarded); always called, exactly once. */
  done(): void;
}

interface Tracked {
  readonly saving: Promise<void>;
  readonly settled: Promise<void>;
}

/**
 * Uploads in progress live in `<root>/.ferry-staging/` (same filesystem as the targets, so the final
 * rename is atomic). Each upload writes its own uniquely named `*.part` file, so two clients putting
 * the same name never share bytes. A connection lost mid-upload turns the file into a resumable
 * partial named after (path, size); a later put of the same path and size claims it by renaming it,
 * which only one claimer can win.
 */
/**
 * Staging names are unique by this process's random tag and a counter: one random draw per name
 * cost ~25 µs of a small put's ~300. Uniqueness is all a name needs: files are created O_EXCL in a
 * private (0700) directory, so a guessed name can only make an upload fail, never redirect it.
 */
const PROCESS_TAG = randomBytes(8).toString("hex");
let nameSerial = 0;

export class Staging {
  /** After {@link open}, the staging directory through its own handle (`/proc/self/fd/N`). */
  private where: string;
  private handle: FileHandle | null = null;
  /** Uploads in progress by partial key, so a claim can wait for one that is about to save. */
  private readonly active = new Map<string, Set<Tracked>>();

  constructor(root: string) {
    this.where = path.join(root, STAGING_DIR);
  }

  get dir(): string {
    return this.where;
  }

  /**
   * Creates the staging directory if needed and holds it open: every later staging path goes
   * through that handle, so the directory swapped for a symlink cannot send uploads elsewhere.
   */
  async open(): Promise<void> {
    if (this.handle) return;
    await mkdir(this.where, { recursive: true, mode: 0o700 });
    const fh = await open(
      this.where,
      constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW,
    ).catch((err) => {
      if (errnoOf(err) !== "ENOTDIR" && errnoOf(err) !== "ELOOP") throw err;
      throw new FerryError("EINTERNAL", `${this.where} exists and is not a directory`, {}, { cause: err });
    });
    this.handle = fh;
    this.where = `/proc/self/fd/${fh.fd}`;
  }

  async close(): Promise<void> {
    const fh = this.handle;
    this.handle = null;
    await fh?.close();
  }

  /**
   * A fresh, empty staging file opened for writing, with a note of what it is for beside it, so that
   * a server killed mid-upload can still offer it for resume after a restart ({@link adoptOrphans}).
   */
  async create(meta: PartialMeta): Promise<{ file: string; fh: FileHandle }> {
    const file = this.tempName(meta);
    await writeFile(`${file}.json`, JSON.stringify(meta));
    const fh = await open(file, WRITE_NEW, 0o666);
    return { file, fh };
  }

  /**
   * A fresh staging name for an upload whose bytes are all in hand (a small streamed put), to be
   * created with {@link WRITE_NEW}: no note beside it, since it is committed or removed right away
   * and never becomes a partial.
   */
  bareName(meta: { path: string; size: number }): string {
    return this.tempName(meta);
  }

  /** Keeps `bytes`, the first part of an upload whose connection was lost, as a resumable partial. */
  async keepBytes(meta: PartialMeta, bytes: Buffer): Promise<void> {
    const { file, fh } = await this.create(meta);
    try {
      await fh.writeFile(bytes);
      await fh.close();
      await this.keep(file, meta);
    } catch (err) {
      await fh.close().catch(() => {});
      await this.discard(file);
      throw err;
    }
  }

  /**
   * Takes over the interrupted upload of (rel, size) if there is one whose whole-file hash (when both
   * sides know it in the same algorithm) agrees. Hashes in two algorithms cannot be compared, and need
   * not be: the held prefix is hashed anew in the claimer's algorithm, which the client checks.
   * Returns the claimed file, now private to the caller, and how many bytes it has.
   */
  async claim(
    rel: string,
    size: number,
    hash?: string,
    alg: HashAlgorithm = "md5",
  ): Promise<{ file: string; bytes: number } | null> {
    await this.othersSettled(this.partialKey(rel, size));
    const base = this.partialBase(rel, size);
    const file = this.tempName({ path: rel, size });
    try {
      await rename(`${base}.partial`, file);
    } catch (err) {
      if (errnoOf(err) === "ENOENT") return null;
      throw err;
    }
    const meta = await readMeta(`${base}.json`);
    await unlink(`${base}.json`).catch(() => {});
    await writeFile(
      `${file}.json`,
      JSON.stringify(meta ?? partialMeta(rel, { size, alg, ...(hash ? { hash } : {}) })),
    );
    const st = await lstat(file);
    const held = meta && (meta.alg ?? "md5") === alg ? hashOf(meta) : undefined;
    const agrees = !meta || (meta.size === size && (!hash || !held || hash === held));
    if (!st.isFile() || !agrees || st.size > size) {
      await this.discard(file);
      return null;
    }
    return { file, bytes: st.size };
  }

  /**
   * Registers an upload of (rel, size) in progress. Call after its own claim (a claim waits for the
   * others), and call `done()` once its staging file is committed, kept or discarded.
   */
  track(rel: string, size: number): UploadTicket {
    const key = this.partialKey(rel, size);
    let lost = () => {};
    let done = () => {};
    const tracked: Tracked = {
      saving: new Promise<void>((resolve) => {
        lost = resolve;
      }),
      settled: new Promise<void>((resolve) => {
        done = resolve;
      }),
    };
    const set = this.active.get(key) ?? new Set<Tracked>();
    this.active.set(key, set);
    set.add(tracked);
    return {
      lost,
      done: () => {
        const mine = this.active.get(key);
        mine?.delete(tracked);
        if (mine?.size === 0) this.active.delete(key);
        done();
      },
    };
  }

  /**
   * Waits for the other uploads of this key: in full for those saving a partial (a matter of a few
   * file operations), up to {@link CLAIM_WAIT_MS} for those still receiving.
   */
  private async othersSettled(key: string): Promise<void> {
    const others = this.active.get(key);
    if (!others || others.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const timeUp = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, CLAIM_WAIT_MS);
    });
    try {
      const one = async (t: Tracked) => {
        const first = await Promise.race([
          t.settled.then(() => "settled" as const),
          t.saving.then(() => "saving" as const),
          timeUp.then(() => "time" as const),
        ]);
        if (first === "saving") await t.settled;
      };
      await Promise.all([...others].map(one));
    } finally {
      clearTimeout(timer);
    }
  }

  /** Keeps an interrupted upload so that a later put of the same path and size can resume it. */
  async keep(file: string, meta: PartialMeta): Promise<void> {
    const base = this.partialBase(meta.path, meta.size);
    await writeFile(`${base}.json`, JSON.stringify(meta));
    await rename(file, `${base}.partial`);
    await unlink(`${file}.json`).catch(() => {});
  }

  async discard(file: string): Promise<void> {
    await unlink(file).catch(() => {});
    await unlink(`${file}.json`).catch(() => {});
  }

  /** The staging file is now the target (renamed or linked away): drop its note. */
  async committed(file: string): Promise<void> {
    await unlink(`${file}.json`).catch(() => {});
  }

  /**
   * At start-up every in-progress file belongs to a server that died (one ferryd per root): keep the
   * ones with bytes as resumable partials, drop the rest.
   */
  async adoptOrphans(): Promise<number> {
    let adopted = 0;
    for (const name of await readdir(this.dir)) {
      if (!name.endsWith(".part")) continue;
      const file = path.join(this.dir, name);
      const meta = await readMeta(`${file}.json`);
      const st = await lstat(file).catch(() => null);
      if (meta && st?.isFile() && st.size > 0 && st.size <= meta.size) {
        await this.keep(file, meta).catch(() => this.discard(file));
        adopted++;
      } else {
        await this.discard(file);
      }
    }
    return adopted;
  }

  /** Removes staging files (partials and leftovers of a crash) not modified for `maxAgeMs`. */
  async cleanStale(maxAgeMs: number, now = Date.now()): Promise<number> {
    let removed = 0;
    for (const name of await readdir(this.dir)) {
      const file = path.join(this.dir, name);
      const st = await lstat(file).catch(() => null);
      if (st && !st.isDirectory() && now - st.mtimeMs > maxAgeMs) {
        await unlink(file).catch(() => {});
        removed++;
      }
    }
    return removed;
  }

  private tempName(meta: { path: string; size: number }): string {
    const key = this.partialKey(meta.path, meta.size);
    return path.join(this.dir, `${key}-${PROCESS_TAG}${(nameSerial++).toString(36)}.part`);
  }

  private partialKey(rel: string, size: number): string {
    return createHash("sha256").update(`${rel}\0${size}`).digest("hex").slice(0, 40);
  }

  private partialBase(rel: string, size: number): string {
    return path.join(this.dir, this.partialKey(rel, size));
  }
}

async function readMeta(file: string): Promise<PartialMeta | null> {
  try {
    const value = JSON.parse(await readFile(file, "utf8")) as PartialMeta;
    return typeof value === "object" && value !== null ? value : null;
  } catch {
    return null;
  }
}
