import { writeFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { loggedIn, scramLogin, startAccountsServer, writeTestUsers } from "./helpers/accounts.js";
import { until } from "./helpers/wait.js";

const ALICE = { name: "alice", password: "alice pw" };
const BOB = { name: "bob", password: "bob pw" };

async function canLogIn(port: number, user: string, password: string): Promise<boolean> {
  const t = await scramLogin(port, user, password);
  t.client.close();
  return t.serverFinal?.ok === true;
}

describe("reloading the users file", () => {
  it("adds a user, changes a password and removes a user, while an open connection goes on", async () => {
    const events: { level: string; msg: string }[] = [];
    const logger = { log: (level: string, msg: string) => events.push({ level, msg }) };
    const t = await startAccountsServer([ALICE, BOB], { logger, authBackoffMs: 1, authBackoffMaxMs: 1 });
    const open = await loggedIn(t.port, "bob", BOB.password);
    expect(await open.put("before.txt", Buffer.from("before"))).toMatchObject({ ok: true });

    await writeTestUsers(
      t.base,
      [
        { name: "alice", password: "new alice pw" },
        { name: "carol", password: "carol pw" },
      ],
      t.file,
    );
    expect(await t.server.reload()).toEqual({ ok: true, users: 2 });

    expect(await canLogIn(t.port, "carol", "carol pw")).toBe(true);
    expect(await canLogIn(t.port, "alice", ALICE.password)).toBe(false);
    expect(await canLogIn(t.port, "alice", "new alice pw")).toBe(true);
    expect(await canLogIn(t.port, "bob", BOB.password)).toBe(false);
    // Bob's open session keeps the access it logged in with.
    expect(await open.put("after.txt", Buffer.from("after"))).toMatchObject({ ok: true });
    expect((await open.get("before.txt")).data.toString()).toBe("before");
    open.close();
    expect(events.filter((e) => e.msg === "users reloaded")).toHaveLength(1);
  });

  it("a file that does not parse keeps the users in use and logs one line", async () => {
    const events: { level: string; msg: string; fields?: Record<string, unknown> }[] = [];
    const logger = {
      log: (level: string, msg: string, fields?: Record<string, unknown>) =>
        events.push({ level, msg, fields }),
    };
    const t = await startAccountsServer([ALICE], { logger });
    for (const broken of ["{ not json", '{"users": [{"name": "x"}]}', '{"users": "nobody"}']) {
      await writeFile(t.file, broken);
      expect(await t.server.reload()).toMatchObject({ ok: false });
      expect(await canLogIn(t.port, "alice", ALICE.password)).toBe(true);
    }
    const warnings = events.filter((e) => e.level === "warn" && e.msg.startsWith("users file not reloaded"));
    expect(warnings).toHaveLength(3);
    expect(String(warnings[1]?.fields?.reason)).toMatch(/users\[0\]|"x".*verifier/);
  });

  it("a change of the file is picked up without a signal", async () => {
    const t = await startAccountsServer([ALICE], { watchUsers: true, authBackoffMs: 1, authBackoffMaxMs: 1 });
    expect(await canLogIn(t.port, "bob", BOB.password)).toBe(false);
    await writeTestUsers(t.base, [ALICE, BOB], t.file);
    await until(
      async () => ((await canLogIn(t.port, "bob", BOB.password)) ? true : undefined),
      "the reload",
      300,
    );
  });
});
