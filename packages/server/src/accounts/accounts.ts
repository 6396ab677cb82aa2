import { createHmac, randomBytes } from "node:crypto";
import { SCRAM_DEFAULT_ITERATIONS, type ScramVerifier } from "@ferry/protocol";
import { type Account, readUsersFile, type UsersFile } from "./users-file.js";

/** The verifier to run a login against: the account's, or a decoy for a name that has none. */
export interface LoginTarget {
  readonly account: Account | null;
  readonly verifier: ScramVerifier;
}

export type ReloadResult = { ok: true; users: number } | { ok: false; reason: string };

/**
 * The accounts of a users file, swapped whole on reload. An unknown name gets a decoy verifier:
 * salt and keys derived from a secret and the name (the same for the same name every time), and
 * the iteration count most users have, so its server-first message looks like a real user's and
 * the login fails only at the end, with the same error and the same work as a wrong password.
 */
export class Accounts {
  private table = new Map<string, Account>();
  private decoyKey: Buffer;
  private decoyIterations = SCRAM_DEFAULT_ITERATIONS;
  /** Used when the file has no decoy key: stable while this ferryd runs. */
  private readonly processKey = randomBytes(32);

  private constructor(readonly file: string) {
    this.decoyKey = this.processKey;
  }

  /** Loads the file; throws (a FerryError naming the entry) when it cannot be read or is invalid. */
  static async load(file: string): Promise<Accounts> {
    const accounts = new Accounts(file);
    accounts.install(await readUsersFile(file));
    return accounts;
  }

  /** Reads the file again; if it cannot be read or parsed, the accounts in use stay as they were. */
  async reload(): Promise<ReloadResult> {
    try {
      const next = await readUsersFile(this.file);
      this.install(next);
      return { ok: true, users: next.users.length };
    } catch (err) {
      return { ok: false, reason: (err as Error).message };
    }
  }

  get size(): number {
    return this.table.size;
  }

  find(name: string): Account | undefined {
    return this.table.get(name);
  }

  /** What to run a login for `name` against; a decoy when no account has that name. */
  target(name: string): LoginTarget {
    // Derived for every name, known or not, so both cost the same.
    const derive = (what: string) => createHmac("sha256", this.decoyKey).update(`${what}\0${name}`).digest();
    const decoy: ScramVerifier = {
      iterations: this.decoyIterations,
      salt: derive("salt").subarray(0, 16),
      storedKey: derive("stored-key"),
      serverKey: derive("server-key"),
    };
    const account = this.table.get(name);
    return account ? { account, verifier: account.verifier } : { account: null, verifier: decoy };
  }

  private install(f: UsersFile): void {
    this.table = new Map(f.users.map((u) => [u.name, u]));
    this.decoyKey = f.decoyKey ?? this.processKey;
    this.decoyIterations = mostCommon(f.users.map((u) => u.verifier.iterations)) ?? SCRAM_DEFAULT_ITERATIONS;
  }
}

/** The value seen most often (the larger on a tie), or undefined for none. */
function mostCommon(values: number[]): number | undefined {
  const counts = new Map<number, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best: number | undefined;
  let bestCount = 0;
  for (const [v, n] of counts) {
    if (n > bestCount || (n === bestCount && best !== undefined && v > best)) {
      best = v;
      bestCount = n;
    }
  }
  return best;
}
