import { randomBytes } from "node:crypto";
import { appendFile, mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { FerryError, normalizeFingerprint } from "@ferry/protocol";

/** One trusted server: `host:port` and the fingerprint of its certificate, and where it was written. */
export interface KnownHost {
  host: string;
  port: number;
  fingerprint: string;
  /** 1-based line in the file. */
  line: number;
}

/** Bigger than any real known_hosts; a file past it is refused rather than read into memory. */
const MAX_FILE_BYTES = 16 * 1024 * 1024;

/** `host:port` as known_hosts writes it: the host in lower case, an IPv6 address in brackets. */
export function hostKey(host: string, port: number): string {
  const h = host.toLowerCase();
  return `${h.includes(":") ? `[${h}]` : h}:${port}`;
}

/**
 * The file of servers a client trusts, one `host:port SHA256:...` per line (`#` starts a comment),
 * like ssh's known_hosts: the fingerprint recorded on first contact is the one expected ever after.
 * A host may have several lines (one is enough to match). New lines are appended; removal rewrites
 * the file through a temporary file and a rename.
 */
export class KnownHosts {
  constructor(readonly file: string) {}

  /** Every entry for host:port, in file order. */
  async lookup(host: string, port: number): Promise<KnownHost[]> {
    const key = hostKey(host, port);
    return (await this.entries()).filter((e) => hostKey(e.host, e.port) === key);
  }

  /** Records a fingerprint for host:port (the file and its folder are created when missing). */
  async add(host: string, port: number, fingerprint: string): Promise<KnownHost> {
    const fp = normalizeFingerprint(fingerprint);
    if (!fp) throw new FerryError("EHOSTKEY", `not a fingerprint: ${fingerprint}`);
    const text = await this.read();
    const lines = text === "" ? 0 : text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
    const lead = text === "" || text.endsWith("\n") ? "" : "\n";
    try {
      await mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 });
      await appendFile(this.file, `${lead}${hostKey(host, port)} ${fp}\n`, { mode: 0o600 });
    } catch (err) {
      throw this.fileError("cannot write", err);
    }
    return { host, port, fingerprint: fp, line: lines + 1 };
  }

  /** Removes every entry for host:port; resolves with how many there were. */
  async remove(host: string, port: number): Promise<number> {
    const text = await this.read();
    const key = hostKey(host, port);
    const kept: string[] = [];
    let removed = 0;
    for (const line of text.split("\n")) {
      const entry = parseLine(line);
      if (entry && hostKey(entry.host, entry.port) === key) removed++;
      else kept.push(line);
    }
    if (removed === 0) return 0;
    const tmp = `${this.file}.${randomBytes(4).toString("hex")}.tmp`;
    try {
      const mode = (await stat(this.file)).mode & 0o777;
      await writeFile(tmp, kept.join("\n"), { mode, flush: true });
      await rename(tmp, this.file);
    } catch (err) {
      await rm(tmp, { force: true });
      throw this.fileError("cannot rewrite", err);
    }
    return removed;
  }

  private async entries(): Promise<KnownHost[]> {
    const out: KnownHost[] = [];
    (await this.read()).split("\n").forEach((text, i) => {
      const entry = parseLine(text);
      if (entry) out.push({ ...entry, line: i + 1 });
    });
    return out;
  }

  private async read(): Promise<string> {
    try {
      const st = await stat(this.file);
      if (st.size > MAX_FILE_BYTES) throw new Error(`larger than ${MAX_FILE_BYTES} bytes`);
      return await readFile(this.file, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return "";
      throw this.fileError("cannot read", err);
    }
  }

  private fileError(what: string, err: unknown): FerryError {
    const reason = (err as Error).message.replace(/^E[A-Z]+: ([^,]+).*$/, "$1");
    return new FerryError(
      "EHOSTKEY",
      `${what} the known hosts file ${this.file}: ${reason}`,
      {
        knownHostsFile: this.file,
      },
      { cause: err },
    );
  }
}

/** `host:port fingerprint`, or null for a comment, a blank or a line that is not an entry. */
function parseLine(line: string): { host: string; port: number; fingerprint: string } | null {
  const t = line.trim();
  if (t === "" || t.startsWith("#")) return null;
  const m = /^(\[[^\]\s]+\]|[^\s:[\]]+):(\d{1,5})\s+(\S+)(?:\s.*)?$/.exec(t);
  if (!m) return null;
  const fingerprint = normalizeFingerprint(m[3] as string);
  const port = Number(m[2]);
  if (!fingerprint || port > 65535) return null;
  const host = (m[1] as string).replace(/^\[(.*)\]$/, "$1");
  return { host, port, fingerprint };
}
