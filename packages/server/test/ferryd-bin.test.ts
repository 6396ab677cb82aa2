import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { encodeFrame } from "@ferry/protocol";
import { describe, expect, it } from "vitest";
import { type FerrydRun as Run, spawnFerryd } from "./helpers/ferryd-process.js";
import { md5, RawClient } from "./helpers/raw-client.js";
import { stagingFiles, tempDir } from "./helpers/server.js";
import { until } from "./helpers/wait.js";

/** XDG_STATE_HOME of every ferryd here, so none writes a certificate under the user's home. */
const STATE_HOME = mkdtempSync(path.join(os.tmpdir(), "ferryd-bin-state-"));
process.once("exit", () => rmSync(STATE_HOME, { recursive: true, force: true }));

function run(args: string[], env: NodeJS.ProcessEnv = {}): Run {
  return spawnFerryd(args, { env: { XDG_STATE_HOME: STATE_HOME, ...env } });
}

/** The start-up lines: `listening on HOST:PORT`, then (speaking TLS) `fingerprint SHA256:...`. */
async function listening(
  r: Run,
  plain = false,
): Promise<{ host: string; port: number; fingerprint?: string }> {
  for (;;) {
    const m = /^listening on (\S+):(\d+)\n(?:fingerprint (SHA256:\S+) \(hex [0-9A-F:]{95}\)\n)?/.exec(
      r.stdout(),
    );
    if (m && (plain || m[3])) return { host: m[1] as string, port: Number(m[2]), fingerprint: m[3] };
    if (r.proc.exitCode !== null) throw new Error(`ferryd exited: ${r.stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("the ferryd binary", () => {
  it("serves on port 0, logs transfers to stderr, exits 0 on SIGTERM", async () => {
    const root = path.join(await tempDir(), "served");
    const r = run(["--root", root, "--port", "0", "--no-fsync"]);
    const { host, port, fingerprint } = await listening(r);
    expect(host).toBe("127.0.0.1");
    const c = await RawClient.ready(port, undefined, fingerprint);
    const data = Buffer.from("from the real binary");
    expect(await c.put("bin.txt", data)).toMatchObject({ ok: true, md5: md5(data) });
    expect((await c.get("bin.txt")).data.equals(data)).toBe(true);
    c.close();
    r.proc.kill("SIGTERM");
    expect(await r.exit).toBe(0);
    // `listening on` first, as tools parse it, then the fingerprint; nothing else.
    expect(r.stdout().trim().split("\n")).toEqual([
      `listening on 127.0.0.1:${port}`,
      expect.stringMatching(/^fingerprint SHA256:[A-Za-z0-9+/]{43} \(hex [0-9A-F:]{95}\)$/),
    ]);
    expect(r.stderr()).toMatch(/transfer .*cmd=put path=bin.txt bytes=20 .*result=ok/);
  });

  it("takes settings from the environment, requires auth with FERRY_SECRET, logs JSON without the secret", async () => {
    const root = await tempDir();
    const r = run([], {
      FERRY_ROOT: root,
      FERRY_PORT: "0",
      FERRY_SECRET: "env-secret-123",
      FERRY_LOG_FORMAT: "json",
    });
    const { port, fingerprint } = await listening(r);
    const bare = await RawClient.connect(port, "127.0.0.1", fingerprint);
    expect(await bare.request({ cmd: "hello", version: 1, client: "t" })).toMatchObject({ auth: true });
    bare.close();
    const c = await RawClient.ready(port, "env-secret-123", fingerprint);
    expect(await c.request({ cmd: "stat", path: "/" })).toMatchObject({ ok: true });
    c.close();
    r.proc.kill("SIGINT");
    expect(await r.exit).toBe(0);
    const lines = r.stderr().trim().split("\n");
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
    expect(r.stderr()).not.toContain("env-secret-123");
  });

  it("reads the secret from --secret-file", async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, "secret"), "file-secret\n");
    const r = run([
      "--root",
      path.join(dir, "root"),
      "--port",
      "0",
      "--secret-file",
      path.join(dir, "secret"),
    ]);
    const { port, fingerprint } = await listening(r);
    const c = await RawClient.ready(port, "file-secret", fingerprint);
    expect(await c.request({ cmd: "stat", path: "/" })).toMatchObject({ ok: true });
    c.close();
    r.proc.kill("SIGTERM");
    expect(await r.exit).toBe(0);
  });

  it("kill -9 mid-upload: the restarted server offers the bytes it had on disk", async () => {
    const root = await tempDir();
    const data = randomBytes(4 * 1024 * 1024);
    const first = run(["--root", root, "--port", "0", "--no-fsync"]);
    const { port, fingerprint } = await listening(first);
    const c = await RawClient.ready(port, undefined, fingerprint);
    const ready = await c.request({
      cmd: "put",
      path: "k.bin",
      size: data.length,
      md5: md5(data),
      handshake: true,
    });
    c.socket.write(encodeFrame({ cmd: "data", id: ready.id, offset: 0, size: data.length }));
    c.socket.write(data.subarray(0, 3 * 1024 * 1024 + 100));
    const staged = await until(async () => {
      for (const name of await stagingFiles(root)) {
        if (!name.endsWith(".part")) continue;
        const st = await stat(path.join(root, ".ferry-staging", name)).catch(() => null);
        if (st && st.size >= 2 * 1024 * 1024) return st.size;
      }
      return undefined;
    }, "bytes on disk");
    first.proc.kill("SIGKILL");
    await first.exit;
    c.close();

    const second = run(["--root", root, "--port", "0", "--no-fsync"]);
    const again = await listening(second);
    // Same state directory, same certificate.
    expect(again.fingerprint).toBe(fingerprint);
    const d = await RawClient.ready(again.port, undefined, again.fingerprint);
    const offer = await d.request({
      cmd: "put",
      path: "k.bin",
      size: data.length,
      md5: md5(data),
      handshake: true,
    });
    expect(offer.offset).toBeGreaterThanOrEqual(staged);
    expect(offer.prefixMd5).toBe(md5(data.subarray(0, offer.offset as number)));
    d.sendData(offer.id as number, offer.offset as number, data.subarray(offer.offset as number));
    expect(await d.reply()).toMatchObject({ ok: true, md5: md5(data) });
    d.close();
    second.proc.kill("SIGTERM");
    expect(await second.exit).toBe(0);
  });

  it("`ferryd fingerprint` prints the fingerprint the server then presents, alone; --no-tls serves plain TCP", async () => {
    const dir = await tempDir();
    const stateDir = path.join(dir, "state");
    const fp = run(["fingerprint", "--state-dir", stateDir]);
    expect(await fp.exit).toBe(0);
    expect(fp.stdout()).toMatch(/^SHA256:[A-Za-z0-9+/]{43}\n$/);
    const r = run(["--root", path.join(dir, "root"), "--port", "0", "--state-dir", stateDir]);
    const { port, fingerprint } = await listening(r);
    expect(fingerprint).toBe(fp.stdout().trim());
    const c = await RawClient.ready(port, undefined, fingerprint);
    c.close();
    r.proc.kill("SIGTERM");
    expect(await r.exit).toBe(0);

    const plain = run(["--root", path.join(dir, "root"), "--port", "0", "--no-tls"]);
    const p = await listening(plain, true);
    const d = await RawClient.ready(p.port);
    expect(await d.request({ cmd: "stat", path: "/" })).toMatchObject({ ok: true });
    d.close();
    plain.proc.kill("SIGTERM");
    expect(await plain.exit).toBe(0);
    expect(plain.stdout()).toBe(`listening on 127.0.0.1:${p.port}\n`);
  });

  it("refuses plain TCP on a non-loopback address without --insecure-plain, and a state directory in the root", async () => {
    const root = await tempDir();
    const open = run(["--root", root, "--host", "0.0.0.0", "--port", "0", "--no-tls"], { FERRY_SECRET: "s" });
    expect(await open.exit).toBe(1);
    expect(open.stdout()).toBe("");
    expect(open.stderr()).toContain("--insecure-plain");
    const inside = run(["--root", root, "--port", "0", "--state-dir", path.join(root, "state")]);
    expect(await inside.exit).toBe(1);
    expect(inside.stderr().trim().split("\n")).toHaveLength(1);
    expect(inside.stderr()).toContain("inside the served root");
    const clash = run(["--root", root, "--no-tls", "--tls-cert", "c", "--tls-key", "k"]);
    expect(await clash.exit).toBe(2);
  });

  it("--help documents every option", async () => {
    const r = run(["--help"]);
    expect(await r.exit).toBe(0);
    for (const flag of [
      "--root",
      "--host",
      "--port",
      "--secret-file",
      "--max-connections",
      "--max-per-ip",
      "--idle-timeout",
      "--header-timeout",
      "--max-header",
      "--max-file-size",
      "--max-list-memory",
      "--max-list-entries",
      "--max-rate",
      "--read-only",
      "--no-fsync",
      "--grace",
      "--stale-partial-hours",
      "--insecure-no-auth",
      "--tls-cert",
      "--tls-key",
      "--state-dir",
      "--no-tls",
      "--insecure-plain",
      "ferryd fingerprint",
      "--log-level",
      "--log-format",
      "--version",
      "FERRY_SECRET",
    ]) {
      expect(r.stdout()).toContain(flag);
    }
  });

  it("--version prints the version", async () => {
    const r = run(["--version"]);
    expect(await r.exit).toBe(0);
    expect(r.stdout()).toMatch(/^ferryd \d+\.\d+\.\d+\n$/);
  });

  it("a root that is a file is a one-line start-up error", async () => {
    const file = path.join(await tempDir(), "not-a-dir");
    await writeFile(file, "x");
    const r = run(["--root", file, "--port", "0"]);
    expect(await r.exit).not.toBe(0);
    expect(r.stdout()).toBe("");
    expect(r.stderr().trim().split("\n")).toHaveLength(1);
    expect(r.stderr()).toContain("not a directory");
  });

  it("refuses bad options and a non-loopback host without a secret", async () => {
    const root = await tempDir();
    const missing = run(["--port", "0"]);
    expect(await missing.exit).toBe(2);
    expect(missing.stderr()).toContain("--root");
    const badPort = run(["--root", root, "--port", "http"]);
    expect(await badPort.exit).toBe(2);
    const unknown = run(["--root", root, "--bogus"]);
    expect(await unknown.exit).toBe(2);
    const open = run(["--root", root, "--host", "0.0.0.0", "--port", "0"]);
    expect(await open.exit).not.toBe(0);
    expect(open.stdout()).toBe("");
    expect(open.stderr()).toContain("--insecure-no-auth");
  });
});
