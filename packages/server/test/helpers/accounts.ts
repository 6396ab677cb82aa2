import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { channelBindingOf, makeVerifier, ScramClient } from "@ferry/protocol";
import { onTestFinished } from "vitest";
import { type Account, newDecoyKey, writeUsersFile } from "../../src/accounts/users-file.js";
import { type FerryServer, type ServerOptions, startServer } from "../../src/index.js";
import type { QuotaLimits } from "../../src/storage/storage.js";
import { type Header, RawClient } from "./raw-client.js";
import { tempDir } from "./server.js";

/** The iterations tests use: RFC 7677's floor, so a login costs milliseconds. */
export const TEST_ITERATIONS = 4096;

export interface TestUser {
  name: string;
  password: string;
  /** Default: `<base>/roots/<name>`; a relative root is below `<base>`. */
  root?: string;
  readOnly?: boolean;
  quota?: QuotaLimits;
}

function rootOf(u: TestUser, base: string): string {
  return path.resolve(base, u.root ?? path.join("roots", u.name));
}

export async function account(u: TestUser, base: string): Promise<Account> {
  return {
    name: u.name,
    verifier: await makeVerifier(u.password, TEST_ITERATIONS),
    root: rootOf(u, base),
    readOnly: u.readOnly === true,
    quota: u.quota ?? null,
  };
}

/** Writes a users file for `users` (4096 iterations each) into `base`; returns its path. */
export async function writeTestUsers(base: string, users: TestUser[], file = path.join(base, "users.json")) {
  await writeUsersFile(file, {
    decoyKey: newDecoyKey(),
    users: await Promise.all(users.map((u) => account(u, base))),
  });
  return file;
}

export interface AccountsServer {
  server: FerryServer;
  port: number;
  base: string;
  file: string;
  /** Each user's root (created). */
  roots: Record<string, string>;
  /** A directory beside the roots that no user may ever change. */
  canary: string;
}

/** An in-process ferryd with accounts on 127.0.0.1:0; every user's root exists (and a canary beside them). */
export async function startAccountsServer(
  users: TestUser[],
  options: Partial<ServerOptions> = {},
): Promise<AccountsServer> {
  const base = await tempDir();
  const canary = path.join(base, "canary");
  await mkdir(path.join(canary, "sub"), { recursive: true });
  await writeFile(path.join(canary, "secret.txt"), "do not touch\n");
  const roots: Record<string, string> = {};
  for (const u of users) {
    roots[u.name] = rootOf(u, base);
    await mkdir(roots[u.name] as string, { recursive: true });
  }
  const file = await writeTestUsers(base, users);
  const server = await startServer({ users: file, port: 0, watchUsers: false, tls: false, ...options });
  onTestFinished(() => server.close());
  return { server, port: server.port, base, file, roots, canary };
}

/** Every frame of a SCRAM login as the raw client saw it. */
export interface LoginTranscript {
  hello: Header;
  serverFirst: Header;
  serverFinal?: Header;
  client: RawClient;
}

/**
 * Runs a SCRAM login by hand. `tamper` may change the client-final
 * message before it goes out. Never throws for a refused login: the replies are returned.
 */
export async function scramLogin(
  port: number,
  user: string,
  password: string,
  opts: { localAddress?: string; tamper?: (clientFinal: string) => string } = {},
): Promise<LoginTranscript> {
  const client = await RawClient.connect(port, "127.0.0.1", undefined, opts.localAddress);
  const hello = await client.request({ cmd: "hello", version: 1, client: "raw-test/1" });
  if (hello.ok !== true) return { hello, serverFirst: hello, client };
  // Bound to the connection when it is TLS (tls-exporter), `n,,` on plain TCP.
  const scram = new ScramClient(user, password, channelBindingOf(client.socket));
  const serverFirst = await client.request({ cmd: "auth", scram: scram.first });
  if (serverFirst.ok !== true) return { hello, serverFirst, client };
  const final = await scram.final(serverFirst.scram as string);
  const serverFinal = await client.request({ cmd: "auth", scram: opts.tamper ? opts.tamper(final) : final });
  if (serverFinal.ok === true) scram.verifyServer(serverFinal.scram as string);
  return { hello, serverFirst, serverFinal, client };
}

/** A logged-in raw client; throws if the login fails. */
export async function loggedIn(port: number, user: string, password: string): Promise<RawClient> {
  const t = await scramLogin(port, user, password);
  if (t.serverFinal?.ok !== true) {
    t.client.close();
    throw new Error(`login of ${user} failed: ${JSON.stringify(t.serverFinal ?? t.serverFirst)}`);
  }
  return t.client;
}
