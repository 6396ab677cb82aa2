import type { Entry, HashAlgorithm } from "@ferry/protocol";
import { connect, type FerrySession } from "../lib/index.js";
import { LOGIN_TRIES, type LoginFailure, login, loginFailure } from "./credentials.js";
import { CliError, notConnected } from "./errors.js";
import { HISTORY_SIZE } from "./history.js";
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

interface AuthDetails {
  authRequired?: boolean;
  accounts?: boolean;
  missing?: "user" | "password";
  rejected?: boolean;
}

/** What a login tries: the shared secret, or (a server with accounts) the user's password. */
interface Credentials {
  secret?: string;
  password?: string;
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
  /** Where `cd -` and `lcd -` go back to. */
  previousRemoteCwd: string | null = null;
  previousLocalCwd: string | null = null;
  /** Draw progress bars (the `progress` command toggles it). */
  progress = true;
  /** The command lines of this process, oldest first (at the prompt: with the saved history before them). */
  readonly history: string[] = [];
  /** `--limit-rate` for every session this process opens. */
  limitRate: number | undefined;
  /**
   * Send the first requests behind the hello, without waiting for its answer (a one-shot command
   * line): set by main, and cleared for good once a server asked for a login (see openAfterRefusal).
   */
  early = false;
  /**
   * An early open whose hello may not be answered yet, with the command line that opened it: its
   * outcome is the open's, reported by Runner.settleOpen before anything else uses the connection
   * up or the process ends.
   */
  pendingOpen: { line: string; session: FerrySession } | null = null;
  /** `--hash` for every session this process opens (undefined: md5). */
  hash: HashAlgorithm | undefined;
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

  /** Notes a command line for `history` (bounded as the history file is). */
  remember(line: string): void {
    this.history.push(line);
    if (this.history.length > HISTORY_SIZE) this.history.splice(0, this.history.length - HISTORY_SIZE);
  }

  get connected(): boolean {
    return this.session !== null && !this.session.closed;
  }

  /**
   * Opens a session, asking for what the server needs and is not known: the shared secret or the
   * user's password, each asked again at the prompt after a wrong one, up to {@link LOGIN_TRIES}
   * answers (see login). A password from a file or the environment is never asked again: a script
   * wants the error. The old session, if any, is closed first.
   */
  async open(
    target: Target,
    prompter: Prompter,
    timeoutMs?: number,
    /** The command line an early open's failure is reported as (see pendingOpen). */
    line?: string,
  ): Promise<FerrySession> {
    await this.close();
    const { host, port, user } = target;
    const where = `${host.includes(":") ? `[${host}]` : host}:${port}`;
    const key = `${user ?? ""}@${where}`;
    let accounts = false;
    let asked = 0;
    const transport = this.trust?.connectOptions(prompter) ?? {};
    let openedEarly = false;
    const classify = (err: unknown): LoginFailure => {
      const failure = loginFailure(err);
      const details = ((err as { details?: AuthDetails }).details ?? {}) as AuthDetails;
      if (failure === "missing" || failure === "wrong") {
        accounts = details.accounts === true;
        if (accounts && details.missing === "user") return null;
        if (accounts && this.givenPassword !== undefined) return null;
      }
      return failure;
    };
    const { value: session, credential } = await login<FerrySession, Credentials>({
      known: { secret: this.secret, password: this.givenPassword ?? this.passwords.get(key) },
      interactive: prompter.interactive,
      classify,
      attempt: (c) => {
        // Only when nothing says a login is coming: with credentials the hello's answer is needed first.
        openedEarly =
          this.early && user === undefined && c?.secret === undefined && c?.password === undefined;
        return connect({
          host,
          port,
          user,
          secret: c?.secret,
          password: c?.password,
          timeoutMs,
          clientName: "ferry",
          limitRate: this.limitRate,
          ...(this.hash ? { hash: this.hash } : {}),
          ...(openedEarly ? { early: true } : {}),
          ...transport,
        }).catch((err: unknown) => {
          throw this.explain(err);
        });
      },
      ask: async ({ refused, attempt }) => {
        asked = attempt;
        if (!accounts) {
          const secret = await prompter.password(
            refused
              ? `the server refused that secret; secret for ${where} (try ${attempt} of ${LOGIN_TRIES})`
              : `secret for ${where}`,
          );
          return { secret };
        }
        if (!prompter.interactive) {
          throw new CliError(
            "EAUTH",
            `${user}@${host} needs a password; give it with --password-file FILE or FERRY_PASSWORD`,
          );
        }
        const again = refused ? "wrong user or password; " : "";
        return { password: await prompter.password(`${again}password for ${user}@${host}`) };
      },
    }).catch((err: unknown) => {
      throw this.loginError(err, accounts, asked, where);
    });
    if (credential?.secret !== undefined) this.secret = credential.secret;
    const password = credential?.password;
    if (password !== undefined && this.givenPassword === undefined) this.passwords.set(key, password);
    this.session = session;
    this.pendingOpen = openedEarly ? { line: line ?? `open ${where}`, session } : null;
    this.target = { host, port, user };
    this.remoteCwd = "/";
    this.previousRemoteCwd = null;
    this.listings.clear();
    return session;
  }

  /** The last word on a failed login: what to check or type, with the library's error as the cause. */
  private loginError(err: unknown, accounts: boolean, asked: number, where: string): unknown {
    const details = ((err as { details?: AuthDetails }).details ?? {}) as AuthDetails;
    if (accounts && details.missing === "user") {
      return new CliError("EAUTH", `${where} has accounts: open USER@${where}`, { cause: err });
    }
    if (loginFailure(err) !== "wrong") return err;
    if (accounts) {
      return asked >= LOGIN_TRIES
        ? new CliError("EAUTH", `wrong user or password (${LOGIN_TRIES} tries)`, { cause: err })
        : err;
    }
    return new CliError(
      "EAUTH",
      `${where} refused the secret; check it (--secret-file FILE or FERRY_SECRET) and open again`,
      { cause: err },
    );
  }

  /** The session, reconnecting (same host, cwd kept) when the connection was lost since. */
  async require(prompter: Prompter, timeoutMs?: number): Promise<FerrySession> {
    if (this.session && !this.session.closed) return this.session;
    return this.reopen(prompter, timeoutMs);
  }

  private async reopen(prompter: Prompter, timeoutMs?: number): Promise<FerrySession> {
    if (!this.target) throw notConnected();
    const cwd = this.remoteCwd;
    const previous = this.previousRemoteCwd;
    const session = await this.open(this.target, prompter, timeoutMs);
    this.remoteCwd = cwd;
    this.previousRemoteCwd = previous;
    return session;
  }

  /**
   * After an early session was refused because the server wants a login (isEarlyLoginRefusal):
   * opens the same target again the usual way, asking for what it needs, cwd kept. Nothing was done
   * on the refused session, so the command can run again from its start.
   */
  async openAfterRefusal(prompter: Prompter, timeoutMs?: number): Promise<FerrySession> {
    this.early = false;
    return this.reopen(prompter, timeoutMs);
  }

  /** An error of the connection as the user should read it (TLS and trust errors explained). */
  explain(err: unknown): unknown {
    return this.trust ? this.trust.explain(err) : err;
  }

  /** `wait: false` as FerrySession.close: for the process's last close, when nothing awaits an answer. */
  async close(options: { wait?: boolean } = {}): Promise<void> {
    const session = this.session;
    this.session = null;
    this.target = null;
    this.listings.clear();
    if (session && !session.closed) {
      // A connection already gone cannot say bye; closing is still done.
      await session.close(options).catch(() => {});
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
