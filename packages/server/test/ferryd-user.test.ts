import { readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { inPty } from "@ferry/test-fixtures";
import { describe, expect, it } from "vitest";
import { parseUsersFile } from "../src/accounts/users-file.js";
import { loggedIn, scramLogin } from "./helpers/accounts.js";
import { type FerrydRun as Run, spawnFerryd } from "./helpers/ferryd-process.js";
import { tempDir } from "./helpers/server.js";
import { until } from "./helpers/wait.js";

const BIN = fileURLToPath(new URL("../bin/ferryd.js", import.meta.url));
/** `ferryd ...args` on a terminal, with no FERRY_* variable of the developer's shell. */
const ferrydInPty = (args: string[]) =>
  inPty(BIN, args, {
    env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("FERRY_"))),
  });

/** The real ferryd; `input` is written to its stdin (then closed), which is a pipe, not a terminal. */
function ferryd(args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string } = {}): Run {
  return spawnFerryd(args, { env: opts.env, input: opts.input ?? "" });
}

async function user(file: string, args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string } = {}) {
  const r = ferryd(["user", ...args, "--users", file], opts);
  const code = await r.exit;
  return { code, stdout: r.stdout(), stderr: r.stderr() };
}

async function listening(r: Run): Promise<number> {
  return until(
    () => {
      const m = /^listening on \S+:(\d+)\n/.exec(r.stdout());
      if (m) return Number(m[1]);
      if (r.proc.exitCode !== null) throw new Error(`ferryd exited: ${r.stderr()}`);
      return undefined;
    },
    "ferryd to listen",
    2000,
  );
}

describe("ferryd user add / passwd / del / list", () => {
  it("edits the users file (mode 0600, no password in it), and the real ferryd logs those users in", async () => {
    const dir = await tempDir();
    const file = path.join(dir, "users.json");
    const aliceRoot = path.join(dir, "alice");

    const added = await user(file, ["add", "alice", "--root", aliceRoot, "--iterations", "4096"], {
      input: "alice's first password\n",
    });
    expect(added).toMatchObject({ code: 0 });
    expect(added.stdout).toMatch(/added alice\s+read-write\s+no quota/);
    expect(
      await user(
        file,
        ["add", "bob", "--root", "bob-root", "--read-only", "--quota", "10G", "--quota-files", "500"],
        {
          env: { FERRY_PASSWORD: "bob's password" },
        },
      ),
    ).toMatchObject({ code: 0 });

    const text = await readFile(file, "utf8");
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(text).not.toContain("alice's first password");
    expect(text).not.toContain("bob's password");
    const parsed = parseUsersFile(text, file);
    expect(parsed.users.map((u) => u.name)).toEqual(["alice", "bob"]);
    expect(parsed.users[1]).toMatchObject({
      readOnly: true,
      quota: { bytes: 10 * 1024 ** 3, files: 500 },
      root: path.resolve("bob-root"),
    });
    expect(parsed.users[0]?.verifier.iterations).toBe(4096);

    const list = await user(file, ["list"]);
    expect(list.code).toBe(0);
    expect(list.stdout.trim().split("\n")).toEqual([
      expect.stringMatching(/^alice\s+read-write\s+no quota\s+\S+alice$/),
      expect.stringMatching(/^bob\s+read-only\s+quota 10\.0 GiB, 500 files\s+\S+bob-root$/),
    ]);
    expect(list.stdout).not.toContain("SCRAM");

    // Mistakes change nothing.
    expect((await user(file, ["add", "alice", "--root", aliceRoot], { input: "x\n" })).code).toBe(2);
    expect((await user(file, ["del", "nobody"])).code).toBe(2);
    expect((await user(file, ["add", "bad name", "--root", aliceRoot], { input: "x\n" })).code).toBe(2);
    expect((await user(file, ["passwd", "alice"], { input: "\n" })).code).toBe(1);
    expect(await readFile(file, "utf8")).toBe(text);

    const server = ferryd(["--users", file, "--port", "0", "--no-fsync", "--no-tls"]);
    const port = await listening(server);
    const alice = await loggedIn(port, "alice", "alice's first password");
    expect(await alice.put("hi.txt", Buffer.from("hi"))).toMatchObject({ ok: true });
    expect(await readFile(path.join(aliceRoot, "hi.txt"), "utf8")).toBe("hi");

    // passwd: the old password stops working, the new one works, the open session goes on.
    expect(
      await user(file, ["passwd", "alice", "--iterations", "4096"], { input: "alice's second password\n" }),
    ).toMatchObject({
      code: 0,
    });
    await until(
      async () => {
        const t = await scramLogin(port, "alice", "alice's second password");
        t.client.close();
        return t.serverFinal?.ok === true ? true : undefined;
      },
      "the new password",
      500,
    );
    expect((await scramLogin(port, "alice", "alice's first password")).serverFinal).toMatchObject({
      code: "EAUTH",
    });
    expect(await alice.request({ cmd: "stat", path: "hi.txt" })).toMatchObject({ ok: true });

    expect(await user(file, ["del", "bob"])).toMatchObject({ code: 0 });
    expect((await user(file, ["list"])).stdout).not.toMatch(/^bob/m);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    alice.close();
    server.proc.kill("SIGTERM");
    expect(await server.exit).toBe(0);
    expect(server.stderr()).not.toMatch(/alice's (first|second) password/);
  });

  it("SIGHUP reloads the file without dropping an open connection; a broken file keeps the users", async () => {
    const dir = await tempDir();
    const file = path.join(dir, "users.json");
    const env = { FERRY_PASSWORD: "pw one" };
    expect(
      await user(file, ["add", "one", "--root", path.join(dir, "one"), "--iterations", "4096"], { env }),
    ).toMatchObject({
      code: 0,
    });
    const server = ferryd(["--users", file, "--port", "0", "--no-watch-users", "--no-fsync", "--no-tls"]);
    const port = await listening(server);
    const open = await loggedIn(port, "one", "pw one");

    expect(
      await user(file, ["add", "two", "--root", path.join(dir, "two"), "--iterations", "4096"], {
        env: { FERRY_PASSWORD: "pw two" },
      }),
    ).toMatchObject({ code: 0 });
    // Not watched: nothing changes until the signal.
    expect((await scramLogin(port, "two", "pw two")).serverFinal).toMatchObject({ code: "EAUTH" });
    server.proc.kill("SIGHUP");
    await until(() => (/users reloaded/.test(server.stderr()) ? true : undefined), "the reload", 500);
    (await loggedIn(port, "two", "pw two")).close();
    expect(await open.request({ cmd: "stat", path: "/" })).toMatchObject({ ok: true });

    await writeFile(file, "{ this is not json");
    server.proc.kill("SIGHUP");
    await until(
      () => (/users file not reloaded/.test(server.stderr()) ? true : undefined),
      "the failed reload",
      500,
    );
    expect(
      server
        .stderr()
        .split("\n")
        .filter((l) => l.includes("not reloaded")),
    ).toHaveLength(1);
    (await loggedIn(port, "two", "pw two")).close();
    expect(await open.request({ cmd: "stat", path: "/" })).toMatchObject({ ok: true });
    open.close();
    expect(server.proc.exitCode).toBeNull();
  });

  it("on a terminal, asks for the password twice without echoing it, and a mismatch changes nothing", async () => {
    const dir = await tempDir();
    const file = path.join(dir, "users.json");
    const add = [
      "user",
      "add",
      "tty",
      "--root",
      path.join(dir, "tty"),
      "--users",
      file,
      "--iterations",
      "4096",
    ];
    const t = ferrydInPty(add);
    await t.expect(/password for tty: $/);
    await t.send("s3cret typed\r");
    await t.expect(/again: $/);
    await t.send("s3cret typed\r");
    await t.expect(/added tty/);
    expect(await t.exit()).toBe(0);
    expect(await t.transcript()).not.toContain("s3cret");
    const text = await readFile(file, "utf8");

    const t2 = ferrydInPty(["user", "passwd", "tty", "--users", file, "--iterations", "4096"]);
    await t2.expect(/password for tty: $/);
    await t2.send("one\r");
    await t2.expect(/again: $/);
    await t2.send("two\r");
    await t2.expect(/differ; nothing was changed/);
    expect(await t2.exit()).toBe(1);
    expect(await readFile(file, "utf8")).toBe(text);
  });

  it("refuses --users with --root or a secret", async () => {
    const dir = await tempDir();
    const r1 = ferryd(["--users", path.join(dir, "u.json"), "--root", dir]);
    expect(await r1.exit).toBe(2);
    const r2 = ferryd(["--users", path.join(dir, "u.json")], { env: { FERRY_SECRET: "s" } });
    expect(await r2.exit).toBe(2);
    expect(r2.stderr()).toMatch(/cannot be combined/);
  });
});
