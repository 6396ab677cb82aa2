import { existsSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import {
  humanSize,
  isValidUserName,
  makeVerifier,
  SCRAM_DEFAULT_ITERATIONS,
  SCRAM_MIN_ITERATIONS,
} from "@ferry/protocol";
import { parseSize } from "../sizes.js";
import type { QuotaLimits } from "../storage/storage.js";
import { newPassword, type PasswordSources } from "./password-input.js";
import { type Account, newDecoyKey, readUsersFile, type UsersFile, writeUsersFile } from "./users-file.js";

export const USER_HELP = `usage: ferryd user add NAME --root DIR [--read-only] [--quota SIZE] [--quota-files N]
       ferryd user passwd NAME
       ferryd user del NAME
       ferryd user list

Edits the users file given by --users FILE (or FERRY_USERS). Each change rewrites the file in one
step with mode 0600; a running ferryd reloads it by itself (or on SIGHUP). The password is asked
twice without echo on a terminal; a script gives it on stdin (first line) or in FERRY_PASSWORD.
The file keeps only a SCRAM-SHA-256 verifier, never the password.

options:
  --users FILE        the users file (created by the first add) [FERRY_USERS]
  --root DIR          add: the user's root, created at their first login
  --read-only         add: every write of this user gets EACCES
  --quota SIZE        add: bytes the user's files may hold, e.g. 500M, 10G
  --quota-files N     add: how many files the user may have
  --iterations N      add, passwd: PBKDF2 iterations (default ${SCRAM_DEFAULT_ITERATIONS}, at least ${SCRAM_MIN_ITERATIONS})
`;

export interface UserCliIo extends PasswordSources {
  out(line: string): void;
}

/** A mistake in the command line: printed with a hint, exit status 2. */
export class UserUsageError extends Error {}

function fail(message: string): never {
  throw new UserUsageError(message);
}

/** Runs `ferryd user ...`; resolves when the file is written. Throws UserUsageError or a FerryError. */
export async function runUserCommand(argv: string[], io: UserCliIo): Promise<void> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    fail((err as Error).message);
  }
  const { values, positionals } = parsed;
  const [verb, name, ...extra] = positionals;
  if (values.help || verb === undefined) {
    io.out(USER_HELP);
    return;
  }
  const file = values.users ?? (io.env.FERRY_USERS || undefined);
  if (!file) fail("--users FILE is required (or set FERRY_USERS)");
  if (extra.length > 0) fail(`unexpected ${JSON.stringify(extra[0])}`);
  const needsName = verb === "add" || verb === "passwd" || verb === "del";
  if (!needsName && verb !== "list")
    fail(`unknown command ${JSON.stringify(verb)}: add, passwd, del or list`);
  if (needsName && name === undefined) fail(`${verb} needs a user NAME`);
  if (!needsName && name !== undefined) fail(`list takes no NAME`);
  if (verb !== "add") {
    for (const only of ["root", "read-only", "quota", "quota-files"] as const) {
      if (values[only] !== undefined) fail(`--${only} is for add only`);
    }
  }
  const iterations =
    integer("--iterations", values.iterations, SCRAM_MIN_ITERATIONS) ?? SCRAM_DEFAULT_ITERATIONS;

  if (verb !== "add" && !existsSync(file)) fail(`${file} does not exist; add a user first`);
  const current: UsersFile = existsSync(file) ? await readUsersFile(file) : { decoyKey: null, users: [] };
  const users = [...current.users];
  const index = name === undefined ? -1 : users.findIndex((u) => u.name === name);

  if (verb === "list") {
    for (const u of users) io.out(describe(u));
    return;
  }
  const user = name as string;
  if (verb === "add") {
    if (!isValidUserName(user))
      fail(
        `user name ${JSON.stringify(user)}: use 1 to 64 of A-Z a-z 0-9 . _ - (starting with a letter or digit)`,
      );
    if (index >= 0) fail(`user ${user} exists; use passwd to change the password`);
    if (values.root === undefined) fail("add needs --root DIR");
    const quota: QuotaLimits = {
      ...(values.quota !== undefined ? { bytes: size("--quota", values.quota) } : {}),
      ...(values["quota-files"] !== undefined
        ? { files: integer("--quota-files", values["quota-files"], 0) }
        : {}),
    };
    const password = await newPassword(user, io);
    const account: Account = {
      name: user,
      verifier: await makeVerifier(password, iterations),
      root: path.resolve(values.root),
      readOnly: values["read-only"] === true,
      quota: Object.keys(quota).length > 0 ? quota : null,
    };
    users.push(account);
    await writeUsersFile(file, { decoyKey: current.decoyKey ?? newDecoyKey(), users });
    io.out(`added ${describe(account)}`);
    return;
  }
  if (index < 0) fail(`no user ${user} in ${file}`);
  const old = users[index] as Account;
  if (verb === "passwd") {
    const password = await newPassword(user, io);
    users[index] = { ...old, verifier: await makeVerifier(password, iterations) };
    await writeUsersFile(file, { decoyKey: current.decoyKey ?? newDecoyKey(), users });
    io.out(`changed the password of ${user}`);
    return;
  }
  users.splice(index, 1);
  await writeUsersFile(file, { decoyKey: current.decoyKey ?? newDecoyKey(), users });
  io.out(`deleted ${user} (their files in ${old.root} are left as they are)`);
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      users: { type: "string" },
      root: { type: "string" },
      "read-only": { type: "boolean" },
      quota: { type: "string" },
      "quota-files": { type: "string" },
      iterations: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
}

function describe(u: Account): string {
  const limits = [
    u.quota?.bytes !== undefined ? humanSize(u.quota.bytes) : null,
    u.quota?.files !== undefined ? `${u.quota.files} files` : null,
  ].filter(Boolean);
  const quota = limits.length > 0 ? `quota ${limits.join(", ")}` : "no quota";
  return `${u.name}  ${u.readOnly ? "read-only" : "read-write"}  ${quota}  ${u.root}`;
}

function integer(flag: string, raw: string | undefined, min: number): number | undefined {
  if (raw === undefined) return undefined;
  const v = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(v) || v < min)
    fail(`${flag} must be a whole number of at least ${min}`);
  return v;
}

function size(flag: string, raw: string): number {
  const v = parseSize(raw);
  if (v === undefined) fail(`${flag} must be a size like 1048576, 500M or 10G, not ${JSON.stringify(raw)}`);
  return v;
}
