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

/** Where `open` connects: `[user@]host[:port]`. */
export interface Target {
  host: string;
  port: number;
  /** For a server with accounts. */
  user?: string;
}

/** Passwords asked for one login before giving up, as ssh does. */
export const PASSWORD_TRIES = 3;

interface AuthDetails {
  authRequired?: boolean;
  accounts?: boolean;
  missing?: "user" | "password";
  rejected?: boolean;
}

/**
 * What one `ferry` process remembers between commands: the connection, both working directories,
 * the secret and passwords once known (in memory only), and a short-lived cache of remote listings
 * for completion.
 */
export class CliState {
  session: FerrySession | null = null;
  target: Target | null = null;
  remoteCwd = "/";
  /** `--limit-rate` for every session this process opens. */
  limitRate: number | undefined;
  secret: string | undefined;
  /** From --password-file or FERRY_PASSWORD: used for every user, never asked for again. */
  private readonly givenPassword: string | undefined;
  /** Passwords typed at the prompt that logged in, by user@host:port, for reconnecting. */
  private readonly passwords = new Map<string, string>();
  private readonly listings = new Map<string, { at: number; entries: Entry[] }>();

  constructor(
    public localCwd: string,
    credentials: { secret?: string; password?: string } = {},
    /** How servers are trusted (TLS, known_hosts); the library's defaults without it. */
    private readonly trust?: HostTrust,
  ) {
    this.secret = credentials.secret;
    this.givenPassword = credentials.password;
  }

  get connected(): boolean {
    return this.session !== null && !this.session.closed;
  }

  /**
   * Opens a session, asking for what the server needs and is not known: the shared secret (once),
   * or the user's password (again after a wrong one, up to {@link PASSWORD_TRIES} times). The old
   * session, if any, is closed first.
   */
  async open(target: Target, prompter: Prompter, timeoutMs?: number): Promise<FerrySession> {
    await this.close();
    const { host, port, user } = target;
    const key = `${user ?? ""}@${host}:${port}`;
    let secret = this.secret;
    let password = this.givenPassword ?? this.passwords.get(key);
    let prompts = 0;
    const transport = this.trust?.connectOptions(prompter) ?? {};
    let session: FerrySession;
    for (;;) {
      try {
        session = await connect({
          host,
          port,
          secret,
          user,
          password,
          timeoutMs,
          clientName: "ferry",
          limitRate: this.limitRate,
          ...transport,
        }).catch((err: unknown) => {
          throw this.trust ? this.trust.explain(err) : err;
        });
        break;
      } catch (err) {
        const code = (err as { code?: string }).code;
        const details = ((err as { details?: AuthDetails }).details ?? {}) as AuthDetails;
        if (code !== "EAUTH" || details.authRequired !== true) throw err;
        if (!details.accounts) {
          if (secret !== undefined) throw err;
          secret = await prompter.password(`secret for ${host}:${port}`);
          continue;
        }
        if (details.missing === "user") {
          throw new CliError("EAUTH", `${host}:${port} has accounts: open USER@${host}:${port}`);
        }
        // A password from a file or the environment is not typed again: a script wants the error.
        if (this.givenPassword !== undefined) throw err;
        if (prompts >= PASSWORD_TRIES) {
          throw new CliError("EAUTH", `wrong user or password (${PASSWORD_TRIES} tries)`);
        }
        if (!prompter.interactive) {
          throw new CliError(
            "EAUTH",
            `${user}@${host} needs a password; give it with --password-file FILE or FERRY_PASSWORD`,
          );
        }
        const again = details.rejected ? "wrong user or password; " : "";
        password = await prompter.password(`${again}password for ${user}@${host}`);
        prompts++;
      }
    }
    this.secret = secret;
    if (password !== undefined && this.givenPassword === undefined) this.passwords.set(key, password);
    this.session = session;
    this.target = { host, port, user };
    this.remoteCwd = "/";
    this.listings.clear();
    return session;
  }

  /** The session, reconnecting (same host, cwd kept) when the connection was lost since. */
  async require(prompter: Prompter, timeoutMs?: number): Promise<FerrySession> {
    if (this.session && !this.session.closed) return this.session;
    if (!this.target) throw notConnected();
    const cwd = this.remoteCwd;
    const session = await this.open(this.target, prompter, timeoutMs);
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
