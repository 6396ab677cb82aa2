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
import { FerryError } from "@ferry/protocol";
import { errnoOf } from "../fs-errors.js";
import { STAGING_DIR } from "./sandbox.js";

/** What a resumable partial was meant to become; stored beside it. */
interface PartialMeta {
  path: string;
  size: number;
  md5?: string;
}

const WRITE_NEW = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/**
 * Uploads in progress live in `<root>/.ferry-staging/` (same filesystem as the targets, so the final
 * rename is atomic). Each upload writes its own uniquely named `*.part` file, so two clients putting
 * the same name never share bytes. A connection lost mid-upload turns the file into a resumable
 * partial named after (path, size); a later put of the same path and size claims it by renaming it,
 * which only one claimer can win.
 */
export class Staging {
  readonly dir: string;

  constructor(root: string) {
    this.dir = path.join(root, STAGING_DIR);
  }

  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const st = await lstat(this.dir);
    if (!st.isDirectory()) {
      throw new FerryError("EINTERNAL", `${this.dir} exists and is not a directory`);
    }
  }

  /** A fresh, empty staging file opened for writing. */
  async create(): Promise<{ file: string; fh: FileHandle }> {
    const file = this.tempName();
    const fh = await open(file, WRITE_NEW, 0o666);
    return { file, fh };
  }

  /**
   * Takes over the interrupted upload of (rel, size) if there is one whose md5 (when both sides
   * know it) agrees. Returns the claimed file, now private to the caller, and how many bytes it has.
   */
  async claim(rel: string, size: number, md5?: string): Promise<{ file: string; bytes: number } | null> {
    const base = this.partialBase(rel, size);
    const file = this.tempName();
    try {
      await rename(`${base}.partial`, file);
    } catch (err) {
      if (errnoOf(err) === "ENOENT") return null;
      throw err;
    }
    const meta = await readMeta(`${base}.json`);
    await unlink(`${base}.json`).catch(() => {});
    const st = await lstat(file);
    const agrees = !meta || (meta.size === size && (!md5 || !meta.md5 || md5 === meta.md5));
    if (!st.isFile() || !agrees || st.size > size) {
      await this.discard(file);
      return null;
    }
    return { file, bytes: st.size };
  }

  /** Keeps an interrupted upload so that a later put of the same path and size can resume it. */
  async keep(file: string, meta: PartialMeta): Promise<void> {
    const base = this.partialBase(meta.path, meta.size);
    await writeFile(`${base}.json`, JSON.stringify(meta));
    await rename(file, `${base}.partial`);
  }

  async discard(file: string): Promise<void> {
    await unlink(file).catch(() => {});
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

  private tempName(): string {
    return path.join(this.dir, `up-${randomBytes(12).toString("hex")}.part`);
  }

  private partialBase(rel: string, size: number): string {
    const key = createHash("sha256").update(`${rel}\0${size}`).digest("hex").slice(0, 40);
    return path.join(this.dir, key);
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
