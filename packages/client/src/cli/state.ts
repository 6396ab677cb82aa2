import type { Entry } from "@ferry/protocol";
import { connect, type FerrySession } from "../lib/index.js";
import { CliError, notConnected } from "./errors.js";
import type { HostTrust } from "./host-trust.js";
import type { Prompter } from "./prompts.js";

export interface CliOptions {
  yes: boolean;
  /** Draw progress bars when on a terminal. */
  progress: boolean;
  json: boolean;
  /** Port used when a host is given without one. */
  port: number;
  timeoutMs?: number;
}

/** How long remote listings are reused for tab completion. */
export const COMPLETION_CACHE_MS = 5_000;

/**
 * What one `ferry` process remembers between commands: the connection, both working directories,
 * the secret once known, and a short-lived cache of remote listings for completion.
 */
export class CliState {
  session: FerrySession | null = null;
  target: { host: string; port: number } | null = null;
  remoteCwd = "/";
  /** `--limit-rate` for every session this process opens. */
  limitRate: number | undefined;
  private readonly listings = new Map<string, { at: number; entries: Entry[] }>();

  constructor(
    public localCwd: string,
    public secret: string | undefined,
    /** How servers are trusted (TLS, known_hosts); the library's defaults without it. */
    private readonly trust?: HostTrust,
  ) {}

  get connected(): boolean {
    return this.session !== null && !this.session.closed;
  }

  /**
   * Opens a session, asking for the secret when the server needs one and none is known. The old
   * session, if any, is closed first.
   */
  async open(host: string, port: number, prompter: Prompter, timeoutMs?: number): Promise<FerrySession> {
    await this.close();
    const transport = this.trust?.connectOptions(prompter) ?? {};
    const attempt = (secret: string | undefined) =>
      connect({
        host,
        port,
        secret,
        timeoutMs,
        clientName: "ferry",
        limitRate: this.limitRate,
        ...transport,
      }).catch((err: unknown) => {
        throw this.trust ? this.trust.explain(err) : err;
      });
    let session: FerrySession;
    try {
      session = await attempt(this.secret);
    } catch (err) {
      const authRequired = (err as { code?: string; details?: { authRequired?: boolean } }).details
        ?.authRequired;
      if ((err as { code?: string }).code !== "EAUTH" || authRequired !== true || this.secret !== undefined) {
        throw err;
      }
      const secret = await prompter.password(`secret for ${host}:${port}`);
      session = await attempt(secret);
      this.secret = secret;
    }
    this.session = session;
    this.target = { host, port };
    this.remoteCwd = "/";
    this.listings.clear();
    return session;
  }

  /** The session, reconnecting (same host, cwd kept) when the connection was lost since. */
  async require(prompter: Prompter, timeoutMs?: number): Promise<FerrySession> {
    if (this.session && !this.session.closed) return this.session;
    if (!this.target) throw notConnected();
    const cwd = this.remoteCwd;
    const session = await this.open(this.target.host, this.target.port, prompter, timeoutMs);
    this.remoteCwd = cwd;
    return session;
  }

  async close(): Promise<void> {
    const session = this.session;
    this.session = null;
    this.target = null;
    this.listings.clear();
    if (session && !session.closed) {
      // A connection already gone cannot say bye; closing is still done.
      await session.close().catch(() => {});
    }
  }

  /** A listing for completion, reused for a few seconds. Never reconnects. */
  async cachedList(dir: string): Promise<Entry[]> {
    if (!this.session || this.session.closed) throw new CliError("ENOTCONN", "not connected");
    const hit = this.listings.get(dir);
    if (hit && Date.now() - hit.at < COMPLETION_CACHE_MS) return hit.entries;
    const entries = await this.session.list(dir);
    this.listings.set(dir, { at: Date.now(), entries });
    return entries;
  }

  /** After any command that may have changed the remote side. */
  forgetListings(): void {
    this.listings.clear();
  }
}
