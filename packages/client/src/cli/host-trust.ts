import { type ConnectOptions, isFerryError, type UnknownHost } from "../lib/index.js";
import { CliError } from "./errors.js";
import type { Io } from "./io.js";
import type { Prompter } from "./prompts.js";

export interface HostTrustOptions {
  /** From the command line: false is --no-tls. */
  tls: false | { fingerprint?: string; ca?: string };
  knownHostsFile: string;
  /** --accept-new: trust a host seen for the first time without asking, and record it. */
  acceptNew: boolean;
  /** At the ftp> prompt a person can be asked about a new host; in -c/-b/stdin mode nobody can. */
  ask: boolean;
}

/**
 * The CLI's side of trusting a server: which library options a connection gets, the question asked
 * about a host seen for the first time, and the words for a refusal, ssh's where ssh has them.
 */
export class HostTrust {
  constructor(
    private readonly opts: HostTrustOptions,
    private readonly io: Io,
  ) {}

  connectOptions(prompter: Prompter): Pick<ConnectOptions, "tls" | "knownHosts"> {
    const { tls } = this.opts;
    if (tls === false || tls.fingerprint !== undefined || tls.ca !== undefined) return { tls };
    return {
      tls: {},
      knownHosts: {
        file: this.opts.knownHostsFile,
        onUnknownHost: (host) => this.onUnknownHost(host, prompter),
      },
    };
  }

  private async onUnknownHost(host: UnknownHost, prompter: Prompter): Promise<boolean> {
    const name = hostName(host.host, host.port);
    if (this.opts.acceptNew) {
      this.io.err(
        `ferry: trusting ${name} on first use (${host.fingerprint}); recorded in ${host.knownHostsFile}`,
      );
      return true;
    }
    if (!this.opts.ask || !prompter.interactive) return false;
    this.io.err(`The authenticity of ${name} can't be established.`);
    this.io.err(`Its TLS certificate fingerprint is ${host.fingerprint}`);
    this.io.err(`(hex ${host.fingerprintHex}).`);
    this.io.err("Compare it with what `ferryd fingerprint` prints on the server.");
    return prompter.confirm(`Trust ${name} and remember it in ${host.knownHostsFile}?`);
  }

  /**
   * The error a person sees for a refused server. A changed certificate also gets ssh's warning, on
   * stderr, before the one-line error; everything else is one line that says what to do.
   */
  explain(err: unknown): unknown {
    if (!isFerryError(err)) return err;
    const d = err.details as {
      reason?: string;
      host?: string;
      port?: number;
      fingerprint?: string;
      expected?: string;
      knownHostsFile?: string;
      line?: number;
    };
    const name = d.host !== undefined && d.port !== undefined ? hostName(d.host, d.port) : "the server";
    if (err.code === "ETLS" && d.reason === "not-tls") {
      return new CliError(
        "ETLS",
        `${name} does not speak TLS; if it was started with --no-tls, use ferry --no-tls`,
      );
    }
    if (err.code !== "EHOSTKEY") return err;
    if (d.reason === "unknown") {
      if (this.opts.ask)
        return new CliError("EHOSTKEY", `${name} is not trusted (${d.fingerprint}); nothing was sent`);
      return new CliError(
        "EHOSTKEY",
        `${name} is not a known host; its certificate fingerprint is ${d.fingerprint}. ` +
          `Check it against \`ferryd fingerprint\` on the server, then pass --fingerprint ${d.fingerprint} to pin it, ` +
          `or --accept-new to trust it on first use and record it in ${d.knownHostsFile}`,
      );
    }
    if (d.reason === "changed") {
      for (const line of changedWarning(
        name,
        d.fingerprint ?? "?",
        d.expected ?? "?",
        d.knownHostsFile ?? "?",
        d.line,
      )) {
        this.io.err(line);
      }
      return new CliError(
        "EHOSTKEY",
        `the certificate of ${name} has changed; refusing to connect (see above)`,
      );
    }
    if (d.reason === "untrusted" && this.opts.tls !== false && this.opts.tls.ca === undefined) {
      return new CliError("EHOSTKEY", `${err.message}; pin it with --fingerprint`);
    }
    return err;
  }
}

function changedWarning(name: string, now: string, before: string, file: string, line?: number): string[] {
  const bar = "@".repeat(59);
  const where = line === undefined ? file : `${file}:${line}`;
  return [
    bar,
    "@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @",
    bar,
    "IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!",
    "Someone could be eavesdropping on you right now (man-in-the-middle attack)!",
    "It is also possible that the server's certificate has just been changed",
    "(a new or deleted ferryd state directory, or a new --tls-cert).",
    `The certificate ${name} sent has fingerprint`,
    `    ${now}`,
    `The fingerprint recorded for ${name} in ${where} is`,
    `    ${before}`,
    "Nothing was sent to the server. If you know why the certificate changed, remove the old entry with",
    `    ferry --forget-host ${name}`,
    "and connect again (you will be asked about the new certificate).",
  ];
}

function hostName(host: string, port: number): string {
  return `${host.includes(":") ? `[${host}]` : host}:${port}`;
}
