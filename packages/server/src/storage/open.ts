import path from "node:path";
import { FerryError } from "@ferry/protocol";
import { ListBudget } from "./list-budget.js";
import { type LocalConfig, LocalStorage } from "./local/local-storage.js";
import type { Storage } from "./storage.js";
import { WriteBudget } from "./write-budget.js";

/** What every storage of one server is opened with (budgets and limits shared by all of them). */
export type StorageConfig = LocalConfig;

/** A server's storage config from its options: fresh budgets, shared by every storage it opens. */
export function storageConfigOf(o: {
  readonly fsync: boolean;
  readonly hashThread: boolean;
  readonly stalePartialMs: number;
  readonly maxListMemory: number;
  readonly maxListEntries: number;
}): StorageConfig {
  return {
    fsync: o.fsync,
    hashThread: o.hashThread,
    stalePartialMs: o.stalePartialMs,
    listBudget: new ListBudget(o.maxListMemory),
    maxListEntries: o.maxListEntries,
    writeBudget: new WriteBudget(),
  };
}

/**
 * A `--storage` (or a user's root) as written: `file:PATH`, `file:///PATH` or a plain path select
 * the local backend; `s3://BUCKET[/PREFIX]` will select the S3 backend. Returns a key under which
 * two spellings of one place are one storage (the local one refines it by real path).
 */
export function storageKey(spec: string): string {
  const kind = storageKind(spec);
  return kind.kind === "local" ? path.resolve(kind.path) : spec;
}

/** The directory a local `spec` names, or null for a backend that is not a directory. */
export function localPathOf(spec: string): string | null {
  const kind = storageKind(spec);
  return kind.kind === "local" ? kind.path : null;
}

type Kind = { kind: "local"; path: string } | { kind: "s3"; url: URL };

function storageKind(spec: string): Kind {
  if (spec.startsWith("file://")) return { kind: "local", path: decodeURIComponent(new URL(spec).pathname) };
  if (spec.startsWith("file:")) return { kind: "local", path: spec.slice("file:".length) };
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(spec)?.[1];
  if (scheme?.toLowerCase() === "s3") return { kind: "s3", url: new URL(spec) };
  if (scheme)
    throw new FerryError("EINTERNAL", `unknown storage ${JSON.stringify(spec)}: use a path, file: or s3://`);
  return { kind: "local", path: spec };
}

/**
 * The one place that knows the backends: opens the storage `spec` names, made writable at once when
 * `writable`. The S3 backend plugs in here (`s3://BUCKET/PREFIX`).
 */
export async function openStorage(spec: string, writable: boolean, config: StorageConfig): Promise<Storage> {
  const kind = storageKind(spec);
  switch (kind.kind) {
    case "local":
      return LocalStorage.open(kind.path, writable, config);
    case "s3":
      throw new FerryError("EINTERNAL", `the S3 backend is not built into this ferryd: ${spec}`);
  }
}

/**
 * The storages of one server, opened lazily by spec and shared by every user with that root (two
 * spellings of one directory are one storage). Kept open until the server closes: there are at most
 * as many as distinct roots in the users file.
 */
export class Storages {
  private readonly bySpec = new Map<string, Promise<Storage>>();
  private readonly byLocation = new Map<string, Storage>();

  constructor(private readonly config: StorageConfig) {}

  /** The storage of `spec`, opened (and made writable when `writable`) if it is not yet. */
  async open(spec: string, writable: boolean): Promise<Storage> {
    const key = storageKey(spec);
    let opening = this.bySpec.get(key);
    if (!opening) {
      opening = this.openNew(spec, writable);
      this.bySpec.set(key, opening);
      // A root that cannot be opened now (missing disk, permissions) is tried again next time.
      opening.catch(() => this.bySpec.delete(key));
    }
    const storage = await opening;
    if (writable) await storage.makeWritable();
    return storage;
  }

  private async openNew(spec: string, writable: boolean): Promise<Storage> {
    const storage = await openStorage(spec, writable, this.config);
    const same = this.byLocation.get(storage.location);
    if (same) {
      await storage.close();
      return same;
    }
    this.byLocation.set(storage.location, storage);
    return storage;
  }

  get all(): Storage[] {
    return [...this.byLocation.values()];
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.all.map((s) => s.close()));
  }
}
