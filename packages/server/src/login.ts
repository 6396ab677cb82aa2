import type { Socket } from "node:net";
import { TLSSocket } from "node:tls";
import {
  type ChannelBinding,
  type ClientFirst,
  channelBindingOf,
  checkClientFinal,
  FerryError,
  HASH_ALGORITHMS,
  isValidUserName,
  PROTOCOL_VERSION,
  parseClientFirst,
  type Request,
  SCRAM_MECHANISM,
  serverFirstMessage,
  toFerryError,
} from "@ferry/protocol";
import type { LoginTarget } from "./accounts/accounts.js";
import type { AuthBackoff } from "./auth.js";
import { checkAnswer, newChallenge } from "./auth.js";
import type { Access, ServerContext } from "./context.js";
import type { Storage } from "./storage/storage.js";
import { SERVER_NAME, SERVER_VERSION } from "./version.js";

/** What one hello or auth request leads to. */
export type LoginStep =
  /** Answer `reply`; the login goes on. */
  | { kind: "reply"; reply: object }
  /** Answer `reply`; the session is ready, confined to `storage`. */
  | { kind: "ready"; reply: object; storage: Storage; access: Access }
  /** Answer `error` and close; `reason` is for the disconnect log line. */
  | { kind: "refuse"; error: FerryError; reason: string };

type Log = (level: "debug" | "info" | "warn", msg: string, fields?: Record<string, unknown>) => void;

/** The one answer to every failed login of an account, so that it tells nothing of why. */
const WRONG = "wrong user or password";

/**
 * The start of a session: hello, then one of three logins: none, the shared secret's HMAC challenge
 * (PROTOCOL.md §3), or SCRAM-SHA-256 against the users file (client-first → server-first,
 * client-final → server-final), bound to the TLS channel when there is one.
 *
 * Backoff: a failed guess counts against the client's address and against the user name (known or
 * not: the same for both), and either in backoff refuses the next attempts unchecked with EBUSY.
 * Between the backoff check and the record of a failure there is no await, so attempts made in
 * parallel see each other's failures.
 */
export class Login {
  private state: "hello" | "secret" | "scram-first" | "scram-final" | "done" = "hello";
  private challenge = "";
  private scram: {
    first: ClientFirst;
    serverFirst: string;
    target: LoginTarget;
    binding: ChannelBinding | null;
  } | null = null;

  constructor(
    private readonly ctx: ServerContext,
    private readonly socket: Socket,
    private readonly addr: string,
    private readonly log: Log,
  ) {}

  /** The next frame must be hello (parsed with parseHello, which checks its version first). */
  get awaitingHello(): boolean {
    return this.state === "hello";
  }

  /** Past hello, not yet ready: any other request is EAUTH. */
  get authenticating(): boolean {
    return this.state !== "hello" && this.state !== "done";
  }

  async step(msg: Request): Promise<LoginStep> {
    if (this.state === "hello") return this.hello(msg);
    if (msg.cmd !== "auth") return this.refuse(new FerryError("EAUTH", "authenticate first"), "auth missing");
    if (this.state === "secret") {
      if (msg.hmac === undefined) {
        return this.refuse(
          new FerryError("EAUTH", "this server uses a shared secret: answer the challenge"),
          "auth mismatch",
        );
      }
      return this.secret(msg.id, msg.hmac);
    }
    if (msg.scram === undefined) {
      return this.refuse(
        new FerryError(
          "EAUTH",
          `this server has accounts: log in with a user name and password (${SCRAM_MECHANISM})`,
        ),
        "auth mismatch",
      );
    }
    return this.state === "scram-first"
      ? this.scramFirst(msg.id, msg.scram)
      : this.scramFinal(msg.id, msg.scram);
  }

  private hello(msg: Request): LoginStep {
    if (msg.cmd !== "hello")
      return this.refuse(new FerryError("EPROTO", "the first frame must be hello"), "no hello");
    if (msg.version !== PROTOCOL_VERSION) {
      const e = new FerryError(
        "EVERSION",
        `protocol version ${msg.version} is not supported; this server speaks ${PROTOCOL_VERSION}`,
      );
      return this.refuse(e, "unsupported version");
    }
    const { options, accounts, defaultStorage } = this.ctx;
    const auth = accounts ? SCRAM_MECHANISM : options.secret !== undefined;
    if (auth !== false) {
      const refused = this.addressBackoff();
      if (refused) return this.refuse(refused, "auth backoff");
    }
    const reply: Record<string, unknown> = {
      ok: true,
      id: msg.id,
      type: "hello",
      version: PROTOCOL_VERSION,
      server: `${SERVER_NAME}/${SERVER_VERSION}`,
      auth,
      // Before a login the user's store is not known: with accounts, what this server can offer; a
      // user whose store keeps fewer is answered EALG per request (PROTOCOL.md §1.2).
      hashes: [...(defaultStorage?.hashes ?? HASH_ALGORITHMS)],
    };
    this.log("debug", "hello", { addr: this.addr, client: msg.client });
    if (auth === false) {
      this.state = "done";
      return { kind: "ready", reply, storage: defaultStorage as Storage, access: this.singleRootAccess() };
    }
    if (auth === true) {
      this.challenge = newChallenge();
      reply.challenge = this.challenge;
      this.state = "secret";
    } else {
      this.state = "scram-first";
    }
    return { kind: "reply", reply };
  }

  private secret(id: number, hmac: string): LoginStep {
    // A connection that said hello before its address went into backoff is refused here.
    const refused = this.addressBackoff();
    if (refused) return this.refuse(refused, "auth backoff");
    const ip = this.ip;
    if (checkAnswer(this.ctx.options.secret as string, this.challenge, hmac)) {
      this.ctx.backoff.succeed(ip);
      this.state = "done";
      this.log("info", "auth ok", { addr: this.addr });
      const reply = { ok: true, id, type: "ok" };
      return {
        kind: "ready",
        reply,
        storage: this.ctx.defaultStorage as Storage,
        access: this.singleRootAccess(),
      };
    }
    this.ctx.backoff.fail(ip);
    this.log("warn", "auth failed", { addr: this.addr, reason: "wrong" });
    return this.refuse(new FerryError("EAUTH", "wrong answer to the auth challenge"), "auth failed");
  }

  private scramFirst(id: number, message: string): LoginStep {
    const refused = this.addressBackoff();
    if (refused) return this.refuse(refused, "auth backoff");
    const binding = this.socket instanceof TLSSocket ? channelBindingOf(this.socket) : null;
    let first: ClientFirst;
    try {
      first = parseClientFirst(message, binding);
    } catch (err) {
      // Malformed or refused (a binding it cannot give): before the session is ready, all are EAUTH.
      const e = toFerryError(err);
      this.log("warn", "auth failed", { addr: this.addr, reason: e.message });
      return this.refuse(new FerryError("EAUTH", e.message, {}, { cause: err }), "auth failed");
    }
    const userRefused = this.userBackoff(first.user);
    if (userRefused) return this.refuse(userRefused, "auth backoff");
    const target = (this.ctx.accounts as NonNullable<ServerContext["accounts"]>).target(first.user);
    const serverFirst = serverFirstMessage(first, target.verifier);
    this.scram = { first, serverFirst, target, binding };
    this.state = "scram-final";
    return { kind: "reply", reply: { ok: true, id, type: "scram", scram: serverFirst } };
  }

  private async scramFinal(id: number, message: string): Promise<LoginStep> {
    const { first, serverFirst, target, binding } = this.scram as NonNullable<Login["scram"]>;
    const refused = this.addressBackoff() ?? this.userBackoff(first.user);
    if (refused) return this.refuse(refused, "auth backoff");
    let check: ReturnType<typeof checkClientFinal>;
    try {
      check = checkClientFinal(first, serverFirst, message, target.verifier, binding);
    } catch (err) {
      check = { ok: false, reason: toFerryError(err).message };
    }
    const account = target.account;
    if (!check.ok || !account) {
      // Recorded before any await: a guess racing this one on another connection sees it.
      this.ctx.backoff.fail(this.ip);
      this.ctx.userBackoff.fail(first.user);
      const reason = account ? (check.ok ? "" : check.reason) : "unknown user";
      // Only a name that could be one is logged: a password typed into the user field must not be.
      const user = isValidUserName(first.user) ? first.user : "(not a user name)";
      this.log("warn", "auth failed", { addr: this.addr, user, reason });
      return this.refuse(new FerryError("EAUTH", WRONG), "auth failed");
    }
    this.ctx.backoff.succeed(this.ip);
    this.ctx.userBackoff.succeed(first.user);
    const access: Access = {
      user: account.name,
      readOnly: this.ctx.options.readOnly || account.readOnly,
      quota: account.quota,
    };
    let storage: Storage;
    try {
      storage = await this.ctx.storages.open(account.root, !access.readOnly);
    } catch (err) {
      const e = toFerryError(err);
      this.log("warn", "root unusable", { addr: this.addr, user: account.name, reason: e.message });
      return this.refuse(
        new FerryError("EINTERNAL", `the root of user ${account.name} cannot be opened`),
        "root unusable",
      );
    }
    this.state = "done";
    this.log("info", "auth ok", { addr: this.addr, user: account.name });
    return {
      kind: "ready",
      reply: { ok: true, id, type: "scram", scram: check.serverFinal },
      storage,
      access,
    };
  }

  private singleRootAccess(): Access {
    return { user: null, readOnly: this.ctx.options.readOnly, quota: null };
  }

  private refuse(error: FerryError, reason: string): LoginStep {
    this.state = "done";
    return { kind: "refuse", error, reason };
  }

  private get ip(): string {
    return this.socket.remoteAddress ?? "?";
  }

  /**
   * EBUSY for an address in auth backoff (see AuthBackoff), checked before any answer is: refusing at
   * once, with how long to wait, rather than holding the connection open and closing it late, because
   * a delayed close slows nothing (an attacker just waits on many connections at once) while it keeps
   * a slot and a socket busy and leaves a real user who mistyped guessing why nothing happens.
   */
  private addressBackoff(): FerryError | null {
    return this.backoffRefusal(this.ctx.backoff, this.ip, "from this address");
  }

  private userBackoff(user: string): FerryError | null {
    return this.backoffRefusal(this.ctx.userBackoff, user, "for this user");
  }

  private backoffRefusal(backoff: AuthBackoff, key: string, whose: string): FerryError | null {
    const wait = backoff.waitMs(key);
    if (wait <= 0) return null;
    const seconds = Math.ceil(wait / 1000);
    this.log("warn", "auth refused", { addr: this.addr, reason: `backoff ${whose}`, waitMs: wait });
    return new FerryError("EBUSY", `too many failed logins ${whose}; wait ${seconds} s before trying again`, {
      retryAfterMs: wait,
    });
  }
}
