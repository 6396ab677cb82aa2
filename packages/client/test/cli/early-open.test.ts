import { once } from "node:events";
import { readdir, readFile, writeFile } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { expectOneLineErrors, world, writeFiles } from "./helpers.js";
import { ferryInPty } from "./pty.js";

/**
 * A command line given up front sends its first requests behind the hello, before the answer. A
 * server that then asks for a login does none of them; ferry logs in the usual way and runs the
 * command again, or says why it cannot, as the open's failure.
 */
describe("commands sent behind the hello (an early open)", () => {
  it("against a server with a secret: asked for at the terminal, then the command runs once", async () => {
    const w0 = await world();
    const secretFile = path.join(w0.local, "..", "secret");
    await writeFile(secretFile, "right-one\n");
    const w = await world(["--secret-file", secretFile]);
    await writeFiles(w.local, { "t/a.txt": "alpha", "t/sub/b.txt": "beta" });
    const t = ferryInPty([...w.trust, `127.0.0.1:${w.port}`, "-c", "mput -r t"], {
      cwd: w.local,
      env: { FERRY_HISTORY: path.join(w.local, "..", "h1") },
    });
    await t.expect(/secret for 127\.0\.0\.1:\d+/);
    await t.send("right-one\r");
    await t.expect(/connected to 127\.0\.0\.1:\d+/);
    expect(await t.exit()).toBe(0);
    const screen = (await t.screen()).lines.join("\n");
    expect(screen.match(/^put t\/a\.txt → \/t\/a\.txt .* md5 ok$/gm)).toHaveLength(1);
    expect(screen.match(/^put t\/sub\/b\.txt → \/t\/sub\/b\.txt .* md5 ok$/gm)).toHaveLength(1);
    expect(screen).not.toMatch(/EAUTH|failed/);
    expect(await readFile(path.join(w.root, "t", "a.txt"), "utf8")).toBe("alpha");
    expect(await readFile(path.join(w.root, "t", "sub", "b.txt"), "utf8")).toBe("beta");
  });

  it("without a terminal or a secret: one line, the open's, nothing sent is done, and the server goes on", async () => {
    const w0 = await world();
    const secretFile = path.join(w0.local, "..", "secret");
    await writeFile(secretFile, "s3cret\n");
    const w = await world(["--secret-file", secretFile]);
    await writeFiles(w.local, { "t/a.txt": "alpha", "t/sub/b.txt": "beta", "one.txt": "one" });
    for (const command of ["mput -r t", "put one.txt", "ls", "mkdir made"]) {
      const r = await w.ferry([`127.0.0.1:${w.port}`, "-c", command]);
      expect(r.code).toBe(1);
      expectOneLineErrors(r.stderr);
      expect(r.stderr.trim()).toBe(
        `ferry: open 127.0.0.1:${w.port}: EAUTH: the server requires a secret; give it with --secret-file FILE or FERRY_SECRET`,
      );
      expect(r.stdout).toBe("");
    }
    expect((await readdir(w.root)).filter((n) => !n.startsWith(".ferry-"))).toEqual([]);
    const ok = await w.ferry([`127.0.0.1:${w.port}`, "-c", "mput -r t"], { env: { FERRY_SECRET: "s3cret" } });
    expect(ok.code).toBe(0);
    expect(await readFile(path.join(w.root, "t", "sub", "b.txt"), "utf8")).toBe("beta");
  });

  it("an open refused at its hello (the server is full) fails in one line, with or without a command after it", async () => {
    const w = await world(["--max-connections", "1", "--no-tls"]);
    // The one connection the server takes, held open and idle.
    const holder = net.connect(w.port, "127.0.0.1");
    await once(holder, "connect");
    onTestFinished(() => {
      holder.destroy();
    });
    for (const command of ["pwd", "ls"]) {
      const r = await w.ferry(["--no-tls", `127.0.0.1:${w.port}`, "-c", command], { trust: false });
      expect(r.code).toBe(1);
      expectOneLineErrors(r.stderr);
      expect(r.stderr).toMatch(new RegExp(`^ferry: open 127\\.0\\.0\\.1:${w.port}: EBUSY: .+\n$`));
      // pwd is answered from what ferry knows (it needs no request); ls never ran.
      expect(r.stdout).toBe(command === "pwd" ? "/\n" : "");
    }
  });
});
