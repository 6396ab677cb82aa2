import { execFile, spawn } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { REPO_ROOT, tempDirForTest } from "@ferry/test-fixtures";
import { describe, expect, it, onTestFinished } from "vitest";

const run = promisify(execFile);

/**
 * README's way to put `ferry` and `ferryd` on PATH from a clone, exactly as written there, into a
 * private prefix instead of the global one: npm links the package folders (nothing is fetched).
 */
describe("ferry and ferryd on PATH (README: npm install -g ./packages/client ./packages/server)", () => {
  it("installs both commands, which then work by name from outside the clone", async () => {
    const prefix = await tempDirForTest("ferry-prefix-");
    await run(
      "npm",
      [
        "install",
        "-g",
        "--prefix",
        prefix,
        "--offline",
        "--no-audit",
        "--no-fund",
        "./packages/client",
        "./packages/server",
      ],
      { cwd: REPO_ROOT, timeout: 120_000 },
    );
    const elsewhere = await tempDirForTest("ferry-elsewhere-");
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PATH: `${path.join(prefix, "bin")}${path.delimiter}${process.env.PATH}`,
    };
    delete env.FERRY_SECRET;
    expect((await run("ferry", ["--version"], { cwd: elsewhere, env })).stdout).toMatch(
      /^ferry \d+\.\d+\.\d+\n$/,
    );
    expect((await run("ferryd", ["--version"], { cwd: elsewhere, env })).stdout).toMatch(
      /^ferryd \d+\.\d+\.\d+\n$/,
    );

    // Plain TCP keeps this about PATH: where TLS is the default, both sides are told so.
    const serverPlain = (await run("ferryd", ["--help"], { cwd: elsewhere, env })).stdout.includes(
      "--no-tls",
    );
    const clientPlain = (await run("ferry", ["--help"], { cwd: elsewhere, env })).stdout.includes("--no-tls");
    const root = path.join(elsewhere, "served");
    const serverArgs = ["--root", root, "--port", "0", "--no-fsync", ...(serverPlain ? ["--no-tls"] : [])];
    const server = spawn("ferryd", serverArgs, {
      cwd: elsewhere,
      env,
      stdio: ["ignore", "pipe", "inherit"],
    });
    onTestFinished(() => {
      server.kill("SIGKILL");
    });
    const port = await new Promise<number>((resolve, reject) => {
      let out = "";
      server.stdout.setEncoding("utf8");
      server.stdout.on("data", (chunk: string) => {
        out += chunk;
        const m = /^listening on \S+:(\d+)$/m.exec(out);
        if (m) resolve(Number(m[1]));
      });
      server.once("exit", (code) => reject(new Error(`ferryd exited with ${code}`)));
    });
    await writeFile(path.join(elsewhere, "hello.txt"), "hello from PATH\n");
    const clientArgs = [...(clientPlain ? ["--no-tls"] : []), `127.0.0.1:${port}`, "-c", "put hello.txt"];
    const put = await run("ferry", clientArgs, {
      cwd: elsewhere,
      env,
    });
    expect(put.stdout).toMatch(/^put hello\.txt → \/hello\.txt 16 B .* md5 ok$/m);
    expect(await readFile(path.join(root, "hello.txt"), "utf8")).toBe("hello from PATH\n");
  });
});
