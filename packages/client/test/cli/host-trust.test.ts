import { readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { fingerprintHex } from "@ferry/protocol";
import { makeTestCa, type RunningFerryd, spawnFerryd, tempDirForTest } from "@ferry/test-fixtures";
import { describe, expect, it } from "vitest";
import { expectOneLineErrors, world } from "./helpers.js";
import { ferryInPty } from "./pty.js";

const PROMPT = /ftp> $/;

/**
 * What the server's log (at --log-level debug) says of connections that were refused by the client:
 * every one ended "closed by client", which FrameReader reports only at a clean frame boundary with
 * no byte read (a partial header would be ECONNLOST), and not one hello was seen.
 */
function expectNothingReceived(server: RunningFerryd, connections: number): void {
  const log = server.stderr();
  expect(log, log).not.toMatch(/ hello /);
  const ends = log.split("\n").filter((l) => / disconnect /.test(l));
  expect(ends, log).toHaveLength(connections);
  for (const line of ends) expect(line).toContain('reason="closed by client"');
}

async function knownHostsFile(): Promise<string> {
  return path.join(await tempDirForTest("ferry-kh-"), "sub", "known_hosts");
}

describe("trusting a server from the command line", () => {
  it("in batch mode an unknown host is refused in one line that names the fingerprint and both ways on", async () => {
    const w = await world(["--log-level", "debug"]);
    const file = await knownHostsFile();
    const fp = w.fingerprint as string;
    const r = await w.ferry([`127.0.0.1:${w.port}`, "-c", "ls"], {
      trust: false,
      env: { FERRY_KNOWN_HOSTS: file },
    });
    expect(r.code).toBe(1);
    expectOneLineErrors(r.stderr);
    const lines = r.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^ferry: open 127\.0\.0\.1:\d+: EHOSTKEY: /);
    expect(lines[0]).toContain(`--fingerprint ${fp}`);
    expect(lines[0]).toContain("--accept-new");
    await expect(stat(file)).rejects.toMatchObject({ code: "ENOENT" });
    expectNothingReceived(w.server, 1);
  });

  it("--accept-new trusts a new host and records it; later runs need nothing", async () => {
    const w = await world();
    const file = await knownHostsFile();
    const env = { FERRY_KNOWN_HOSTS: file };
    const first = await w.ferry([`127.0.0.1:${w.port}`, "--accept-new", "-c", "pwd"], { trust: false, env });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain(`trusting 127.0.0.1:${w.port} on first use (${w.fingerprint})`);
    expect(await readFile(file, "utf8")).toBe(`127.0.0.1:${w.port} ${w.fingerprint}\n`);
    const later = await w.ferry([`127.0.0.1:${w.port}`, "-c", "pwd"], { trust: false, env });
    expect(later.code, later.stderr).toBe(0);
    // Nothing but the status line (status lines go to stderr): no notice, no question.
    expect(later.stderr).toMatch(/^connected to 127\.0\.0\.1:\d+ \(ferryd\/[^)]+\)\n$/);
  });

  it("--fingerprint pins the certificate, in either spelling; any other fingerprint is a hard stop", async () => {
    const w = await world(["--log-level", "debug"]);
    const fp = w.fingerprint as string;
    const host = `127.0.0.1:${w.port}`;
    for (const pin of [fp, fingerprintHex(fp)]) {
      const r = await w.ferry([host, "--fingerprint", pin, "-c", "pwd"], { trust: false });
      expect(r.code, r.stderr).toBe(0);
    }
    const env = { FERRY_FINGERPRINT: fp };
    expect((await w.ferry([host, "-c", "pwd"], { trust: false, env })).code).toBe(0);
    const other = `SHA256:${"x".repeat(42)}w`;
    const wrong = await w.ferry([host, "--fingerprint", other, "-c", "pwd"], { trust: false });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/^ferry: open .*: EHOSTKEY: .*not the pinned SHA256:x{42}w$/m);
    const bad = await w.ferry([host, "--fingerprint", "SHA256:nope", "-c", "pwd"], { trust: false });
    expect(bad.code).toBe(2);
  });

  it("a changed certificate on the same host:port: ssh's warning, both fingerprints, file and line, the way out; nothing sent", async () => {
    const w = await world();
    const file = await knownHostsFile();
    const env = { FERRY_KNOWN_HOSTS: file };
    const host = `127.0.0.1:${w.port}`;
    expect((await w.ferry([host, "--accept-new", "-c", "pwd"], { trust: false, env })).code).toBe(0);
    const old = w.fingerprint as string;
    await w.server.stop();
    // Another ferryd, another state directory, the same port: what a man in the middle would present.
    const impostor = await spawnFerryd({ root: w.root, port: w.port, args: ["--log-level", "debug"] });
    expect(impostor.fingerprint).not.toBe(old);

    for (const extra of [[], ["--accept-new"]]) {
      const r = await w.ferry([host, ...extra, "-c", "pwd"], { trust: false, env });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!");
      expect(r.stderr).toContain(`    ${impostor.fingerprint}\n`);
      expect(r.stderr).toContain(`    ${old}\n`);
      expect(r.stderr).toContain(`${file}:1`);
      expect(r.stderr).toContain(`ferry --forget-host ${host}`);
      expect(r.stderr.trim().split("\n").at(-1)).toMatch(
        /^ferry: open .*: EHOSTKEY: the certificate of .* has changed/,
      );
    }
    expectNothingReceived(impostor, 2);
    expect(await readFile(file, "utf8")).toBe(`${host} ${old}\n`);

    const forget = await w.ferry(["--forget-host", host], { trust: false, env });
    expect(forget.code, forget.stderr).toBe(0);
    expect(forget.stdout).toContain(`removed ${host} from ${file}`);
    expect(await readFile(file, "utf8")).toBe("");
    expect((await w.ferry(["--forget-host", host], { trust: false, env })).code).toBe(1);
    const trusted = await w.ferry([host, "--accept-new", "-c", "pwd"], { trust: false, env });
    expect(trusted.code, trusted.stderr).toBe(0);
    expect(await readFile(file, "utf8")).toBe(`${host} ${impostor.fingerprint}\n`);
  });

  it("a TLS ferry against a --no-tls ferryd, and a --no-tls ferry against a TLS one, fail at once and say why", async () => {
    const plain = await world(["--no-tls"]);
    const toPlain = await plain.ferry([`127.0.0.1:${plain.port}`, "-c", "pwd"], { trust: false });
    expect(toPlain.code).toBe(1);
    expect(toPlain.timedOut).toBe(false);
    expect(toPlain.stderr.trim()).toBe(
      `ferry: open 127.0.0.1:${plain.port}: ETLS: 127.0.0.1:${plain.port} does not speak TLS; if it was started with --no-tls, use ferry --no-tls`,
    );
    expect((await plain.ferry([`127.0.0.1:${plain.port}`, "-c", "pwd"])).code).toBe(0);

    const secure = await world();
    const toTls = await secure.ferry([`127.0.0.1:${secure.port}`, "--no-tls", "-c", "pwd"], { trust: false });
    expect(toTls.code).toBe(1);
    expect(toTls.stderr.trim()).toBe(
      `ferry: open 127.0.0.1:${secure.port}: ETLS: this server speaks TLS; connect without --no-tls`,
    );
  });
});

describe("a CA-issued certificate (--tls-cert)", () => {
  it("is verified with --ca, or with a CA the system trusts and no question or record; another CA is refused", async () => {
    const dir = await tempDirForTest("ferry-ca-");
    const ca = await makeTestCa();
    const leaf = await ca.issue({ dns: ["localhost"], ips: ["127.0.0.1"] });
    const files = {
      cert: path.join(dir, "cert.pem"),
      key: path.join(dir, "key.pem"),
      ca: path.join(dir, "ca.pem"),
    };
    await writeFile(files.cert, leaf.cert);
    await writeFile(files.key, leaf.key);
    await writeFile(files.ca, ca.cert);
    await writeFile(path.join(dir, "other-ca.pem"), (await makeTestCa("another CA")).cert);
    const w = await world(["--tls-cert", files.cert, "--tls-key", files.key]);
    const file = await knownHostsFile();
    const env = { FERRY_KNOWN_HOSTS: file };
    const host = `127.0.0.1:${w.port}`;

    const withCa = await w.ferry([host, "--ca", files.ca, "-c", "pwd"], { trust: false, env });
    expect(withCa.code, withCa.stderr).toBe(0);
    const byName = await w.ferry([`localhost:${w.port}`, "--ca", files.ca, "-c", "pwd"], {
      trust: false,
      env,
    });
    expect(byName.code, byName.stderr).toBe(0);
    const otherCa = await w.ferry([host, "--ca", path.join(dir, "other-ca.pem"), "-c", "pwd"], {
      trust: false,
      env,
    });
    expect(otherCa.code).toBe(1);
    expect(otherCa.stderr).toMatch(/EHOSTKEY: the certificate of .* is not trusted/);
    // No CA named: unknown to known_hosts and to the system's CAs, so refused in batch mode...
    expect((await w.ferry([host, "-c", "pwd"], { trust: false, env })).code).toBe(1);
    // ...but trusted, without a question or a record, once the system trusts the CA.
    const system = await w.ferry([host, "-c", "pwd"], {
      trust: false,
      env: { ...env, NODE_EXTRA_CA_CERTS: files.ca },
    });
    expect(system.code, system.stderr).toBe(0);
    expect(system.stderr).toMatch(/^connected to 127\.0\.0\.1:\d+ \(ferryd\/[^)]+\)\n$/);
    await expect(stat(file)).rejects.toMatchObject({ code: "ENOENT" });
  });
});

describe("trust at the ftp> prompt", () => {
  it("asks about a new host with its fingerprint: no leaves it unknown, yes connects and records it", async () => {
    const w = await world(["--log-level", "debug"]);
    const file = await knownHostsFile();
    const env = { FERRY_KNOWN_HOSTS: file, FERRY_HISTORY: path.join(w.local, "..", "history") };
    const host = `127.0.0.1:${w.port}`;
    const no = ferryInPty([host], { cwd: w.local, env });
    await no.expect(`The authenticity of ${host} can't be established.`);
    await no.expect(`fingerprint is ${w.fingerprint}`);
    await no.expect(/Trust 127\.0\.0\.1:\d+ and remember it in .*known_hosts\?/);
    await no.send("n\r");
    await no.expect(/EHOSTKEY: 127\.0\.0\.1:\d+ is not trusted/);
    expect(await no.exit()).toBe(1);
    await expect(stat(file)).rejects.toMatchObject({ code: "ENOENT" });
    expectNothingReceived(w.server, 1);

    const yes = ferryInPty([host], { cwd: w.local, env });
    await yes.expect(/remember it in/);
    await yes.send("yes\r");
    await yes.expect(/connected to 127\.0\.0\.1:\d+/);
    await yes.expect(PROMPT);
    await yes.send("pwd\r");
    await yes.expect(/^\/\r?$/m);
    await yes.send("quit\r");
    expect(await yes.exit()).toBe(0);
    expect(await readFile(file, "utf8")).toBe(`${host} ${w.fingerprint}\n`);

    // Known now: no question.
    const again = ferryInPty([host], { cwd: w.local, env });
    await again.expect(/connected to 127\.0\.0\.1:\d+/);
    await again.expect(PROMPT);
    await again.send("quit\r");
    expect(await again.exit()).toBe(0);
    expect(await again.transcript()).not.toContain("authenticity");
  });
});
