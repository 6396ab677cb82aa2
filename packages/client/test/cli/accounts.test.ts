import { spawnSync } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { FERRYD_BIN, runFerry, spawnFerryd, tempDirForTest, trustArgs } from "@ferry/test-fixtures";
import { describe, expect, it } from "vitest";
import { expectOneLineErrors } from "./helpers.js";
import { ferryInPty } from "./pty.js";

const PROMPT = /ftp> $/;

/** The real ferryd with accounts made by the real `ferryd user add`; alice's root and a local folder. */
async function accountsWorld(users: Record<string, string>) {
  const dir = await tempDirForTest("ferry-cli-accounts-");
  const file = path.join(dir, "users.json");
  const local = path.join(dir, "local");
  await mkdir(local);
  const roots: Record<string, string> = {};
  for (const [name, password] of Object.entries(users)) {
    roots[name] = path.join(dir, "roots", name);
    const added = spawnSync(
      process.execPath,
      [
        FERRYD_BIN,
        "user",
        "add",
        name,
        "--users",
        file,
        "--root",
        roots[name] as string,
        "--iterations",
        "4096",
      ],
      { env: { ...process.env, FERRY_PASSWORD: password }, encoding: "utf8" },
    );
    if (added.status !== 0) throw new Error(`ferryd user add failed: ${added.stderr}`);
  }
  const server = await spawnFerryd({ args: ["--users", file, "--no-fsync"] });
  const ferry = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    runFerry([...args, ...trustArgs(server)], {
      cwd: local,
      env: { FERRY_PASSWORD: "", ...env },
      timeoutMs: 60_000,
    });
  return { dir, local, roots, port: server.port, server, ferry };
}

describe("ferry user@host against a server with accounts", () => {
  it("logs in with FERRY_PASSWORD or --password-file, each user in their own root", async () => {
    const w = await accountsWorld({ alice: "alice pw", bob: "bob pw" });
    await writeFile(path.join(w.local, "a.txt"), "from alice");
    const put = await w.ferry([`alice@127.0.0.1:${w.port}`, "-c", "put a.txt; ls"], {
      FERRY_PASSWORD: "alice pw",
    });
    expect(put.code).toBe(0);
    // A status line: on stderr, so stdout is only what the commands print.
    expect(put.stderr).toMatch(/connected to 127\.0\.0\.1:\d+ as alice/);
    expect(await readFile(path.join(w.roots.alice as string, "a.txt"), "utf8")).toBe("from alice");

    const passwordFile = path.join(w.dir, "bob.pw");
    await writeFile(passwordFile, "bob pw\n", { mode: 0o600 });
    const ls = await w.ferry([`bob@127.0.0.1:${w.port}`, "--password-file", passwordFile, "-c", "ls"]);
    expect(ls.code).toBe(0);
    expect(ls.stdout).not.toContain("a.txt");
    const get = await w.ferry([
      `bob@127.0.0.1:${w.port}`,
      "--password-file",
      passwordFile,
      "-c",
      "get /a.txt",
    ]);
    expect(get.code).toBe(1);
    expect(get.stderr).toMatch(/ENOENT/);
  });

  it("a wrong password from a script fails at once (no prompt), as does a missing one or a missing user", async () => {
    const w = await accountsWorld({ alice: "alice pw" });
    const wrong = await w.ferry([`alice@127.0.0.1:${w.port}`, "-c", "ls"], { FERRY_PASSWORD: "nope" });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/EAUTH: wrong user or password/);
    expectOneLineErrors(wrong.stderr);
    const none = await w.ferry([`alice@127.0.0.1:${w.port}`, "-c", "ls"]);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/needs a password; give it with --password-file FILE or FERRY_PASSWORD/);
    const nobody = await w.ferry([`127.0.0.1:${w.port}`, "-c", "ls"], { FERRY_PASSWORD: "alice pw" });
    expect(nobody.code).toBe(1);
    expect(nobody.stderr).toMatch(/has accounts: open USER@127\.0\.0\.1/);
  });

  it("at the prompt: asks for the password without echo, asks again after a wrong one, never keeps it", async () => {
    const w = await accountsWorld({ alice: "first-try-wrong", bob: "bob pw" });
    const history = path.join(w.dir, "history");
    const t = ferryInPty([`alice@127.0.0.1:${w.port}`, ...trustArgs(w.server)], {
      cwd: w.local,
      env: { FERRY_HISTORY: history },
    });
    await t.expect(/password for alice@127\.0\.0\.1/);
    await t.send("not-the-password\r");
    await t.expect(/wrong user or password; password for alice@127\.0\.0\.1/);
    await t.send("first-try-wrong\r");
    await t.expect(/connected to 127\.0\.0\.1:\d+ as alice/);
    await t.expect(PROMPT);
    await t.send("open bob@127.0.0.1:" + w.port + "\r");
    await t.expect(/password for bob@127\.0\.0\.1/);
    await t.send("bob pw\r");
    await t.expect(/as bob/);
    await t.expect(PROMPT);
    await t.send("quit\r");
    expect(await t.exit()).toBe(0);
    const transcript = await t.transcript();
    for (const secret of ["not-the-password", "first-try-wrong", "bob pw"]) {
      expect(transcript).not.toContain(secret);
      expect(await readFile(history, "utf8")).not.toContain(secret);
    }
    expect(await readFile(history, "utf8")).toContain(`open bob@127.0.0.1:${w.port}`);
  });

  it("at the prompt: three wrong passwords end the login, like ssh", async () => {
    const w = await accountsWorld({ alice: "alice pw" });
    const t = ferryInPty([`alice@127.0.0.1:${w.port}`, ...trustArgs(w.server)], {
      cwd: w.local,
      env: { FERRY_HISTORY: path.join(w.dir, "h") },
    });
    for (let i = 0; i < 3; i++) {
      await t.expect(/password for alice@127\.0\.0\.1/);
      // After two failures the address and the user are in backoff for a moment (100-200 ms).
      await new Promise((resolve) => setTimeout(resolve, 400));
      await t.send(`wrong ${i}\r`);
    }
    await t.expect(/EAUTH: wrong user or password \(3 tries\)/);
    expect(await t.exit()).toBe(1);
  });
});
