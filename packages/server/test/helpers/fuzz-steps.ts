import { MAX_SIZE } from "@ferry/protocol";
import fc from "fast-check";

/**
 * What the session fuzz (session-fuzz.test.ts) sends: a run is a few connections to one fresh server,
 * each a sequence of pipelined steps and at most one terminal step at its end (a frame after which
 * the server ends the connection, or the client cuts it).
 */

/** Data for puts: a few blobs per run, so that puts (and resumes) of the same bytes meet. */
export type Blob = { kind: "small"; bytes: Uint8Array } | { kind: "big"; size: number; seed: number };

export type Md5Mode = "up" | "trailer" | "wrongUp" | "wrongTrailer";

export type Step =
  /** Streamed put. `send: "none"` sends the header only: the next frame is where its data is due. */
  | {
      kind: "put";
      path: string;
      blob: number;
      md5: Md5Mode;
      overwrite: boolean;
      parents: boolean;
      sizeDelta: number;
      send: "all" | "none";
    }
  /** Handshake put: the runner waits for `ready`, then sends from the offered offset, from 0, or from a bad one. */
  | {
      kind: "hput";
      path: string;
      blob: number;
      md5: Md5Mode;
      overwrite: boolean;
      parents: boolean;
      sizeDelta: number;
      resume: "offered" | "zero" | "bad";
    }
  /** A put declaring far more than any disk holds; no data is sent. */
  | { kind: "hugePut"; path: string; size: number; handshake: boolean }
  | { kind: "get"; path: string; resume: "none" | "wrongPrefix" }
  | { kind: "list" | "stat"; path: string }
  | { kind: "mkdir"; path: string; parents: boolean }
  | { kind: "delete"; path: string; recursive: boolean }
  | { kind: "rename"; from: string; to: string; overwrite: boolean }
  /** A well-formed header with a readable id and a bad field: one error for that id. */
  | { kind: "bad"; header: Record<string, unknown> }
  /** A data or end frame that belongs to no transfer. */
  | { kind: "orphan"; cmd: "data" | "end"; size: number }
  /** A put whose own data or end frame is malformed (see FUZZ_MALFORMED_FRAMES_OF_A_PUT). */
  | { kind: "malformedPutFrame"; which: "data" | "end"; path: string; blob: number }
  /** A malformed data or end frame of no transfer (see FUZZ_MALFORMED_FRAMES_OF_A_PUT). */
  | { kind: "malformedOrphan"; which: "data" | "end" };

export type FatalKind =
  | "prefixHuge"
  | "prefixOver"
  | "zeroLength"
  | "notJson"
  | "array"
  | "badUtf8"
  | "negativeDataSize"
  | "idNotANumber"
  | "noId";

export type Terminal =
  | { kind: "none" }
  | { kind: "bye" }
  /** A frame that PROTOCOL.md §5.1 says ends the connection with an id-null error. */
  | { kind: "fatal"; what: FatalKind }
  /**
   * The bytes of a step, cut off at `at` (a fraction: below 0.3 anywhere in the headers, above it in
   * the payload), then the client's end of the stream. `resumeNext`: the next connection starts with
   * a handshake put of the same path and bytes, which may resume what was cut off.
   */
  | { kind: "cut"; victim: "put" | "get"; path: string; blob: number; at: number; resumeNext: boolean }
  /** A data frame declaring more bytes than are sent, then the client's end of the stream. */
  | { kind: "lie"; victim: "put" | "putDeclared" | "orphan"; path: string; blob: number; extra: number };

export interface Connection {
  steps: Step[];
  terminal: Terminal;
}

export interface Run {
  blobs: Blob[];
  connections: Connection[];
}

/**
 * The steps a connection plays: its own, after a resuming put when the connection before it cut a
 * put off and asked for one.
 */
export function stepsOf(run: Run, i: number): Step[] {
  const own = run.connections[i]?.steps ?? [];
  const before = run.connections[i - 1]?.terminal;
  if (before?.kind !== "cut" || before.victim !== "put" || !before.resumeNext) return own;
  const resume: Step = {
    kind: "hput",
    // Spelled differently: the partial is known by the normalized path (PROTOCOL.md §6).
    path: before.path.startsWith("/")
      ? before.path.slice(1)
      : before.path.includes("/./")
        ? before.path.replace("/./", "/")
        : `./${before.path}`,
    blob: before.blob,
    md5: "up",
    overwrite: false,
    parents: false,
    sizeDelta: 0,
    resume: "offered",
  };
  return [resume, ...own];
}

/** Names that exist in every fresh root (see seedRoot), names that do not, and names that are not allowed. */
const PATHS = [
  "f",
  "/f",
  "./f",
  "d/../f",
  "in/../f",
  "f/",
  "f/x",
  "d",
  "d/",
  "d/g",
  "in/g",
  "d/e",
  "d/e/h",
  "big",
  "new",
  "new/deep/x",
  "a",
  "b",
  "é",
  "\u0001ctl",
  "out",
  "out/secret.txt",
  "out/new",
  "outf",
  "dangling",
  "dangling/x",
  "/",
  "..",
  "../x",
  "../canary/secret.txt",
  ".ferry-staging",
  ".ferry-staging/x",
  "a//b",
  "a\\b",
  "",
  "x\u0000y",
  "n".repeat(256),
];

/** Which generator cases to include; see the flags in session-fuzz.test.ts. */
export interface FuzzCases {
  malformedPutFrames: boolean;
  mkdirParents: boolean;
}

function pathArb(): fc.Arbitrary<string> {
  // A few names come up often, so that a put cut off on one connection meets a put of the same
  // name (and the same blob) on the next, which may resume it.
  return fc.oneof(
    { weight: 1, arbitrary: fc.constantFrom("a", "new", "/new") },
    { weight: 3, arbitrary: fc.constantFrom(...PATHS) },
  );
}

const md5Mode = fc.constantFrom<Md5Mode>("up", "up", "trailer", "trailer", "wrongUp", "wrongTrailer");
const sizeDelta = fc.oneof(
  { weight: 6, arbitrary: fc.constant(0) },
  { weight: 1, arbitrary: fc.integer({ min: -3, max: 3 }) },
);

const blobArb: fc.Arbitrary<Blob> = fc.oneof(
  { weight: 1, arbitrary: fc.constant<Blob>({ kind: "small", bytes: new Uint8Array(0) }) },
  {
    weight: 7,
    arbitrary: fc
      .uint8Array({ minLength: 1, maxLength: 96 })
      .map((bytes): Blob => ({ kind: "small", bytes })),
  },
  // Over 1 MiB: the streamed (not in-memory) roads of put and get, and the get trailer.
  {
    weight: 1,
    arbitrary: fc
      .record({ size: fc.integer({ min: 1024 * 1024 + 1, max: 1300 * 1024 }), seed: fc.nat() })
      .map((b): Blob => ({ kind: "big", ...b })),
  },
);

const BAD_HEADERS: Record<string, unknown>[] = [
  { cmd: "format-disk" },
  { cmd: "put", path: 5, size: 1 },
  { cmd: "put", path: "a", size: -1 },
  { cmd: "put", path: "a", size: 1.5 },
  { cmd: "put", path: "a", size: 1, md5: "A".repeat(32) },
  { cmd: "put", path: "a", size: 1, alg: "sha1" },
  { cmd: "get", path: "f", offset: 3 },
  { cmd: "stat" },
  { cmd: "mkdir", path: "x", parents: "yes" },
  { cmd: "rename", from: "f" },
  { cmd: "list", path: "" },
  { cmd: "get", path: "x\u0000" },
  { cmd: "hello", version: 1, client: "again" },
  { cmd: "auth", hmac: "0".repeat(64) },
  { cmd: "delete", path: "f", recursive: null },
];

export function stepArb(cases: FuzzCases): fc.Arbitrary<Step> {
  const path = pathArb();
  const blobIndex = fc.nat({ max: 3 });
  const steps: fc.WeightedArbitrary<Step>[] = [
    {
      weight: 6,
      arbitrary: fc.record({
        kind: fc.constant("put" as const),
        path,
        blob: blobIndex,
        md5: md5Mode,
        overwrite: fc.boolean(),
        parents: fc.boolean(),
        sizeDelta,
        send: fc.constantFrom("all" as const, "all" as const, "all" as const, "none" as const),
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant("hput" as const),
        path,
        blob: blobIndex,
        md5: md5Mode,
        overwrite: fc.boolean(),
        parents: fc.boolean(),
        sizeDelta,
        resume: fc.constantFrom("offered" as const, "offered" as const, "zero" as const, "bad" as const),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant("hugePut" as const),
        path,
        size: fc.constantFrom(2 ** 40, MAX_SIZE),
        handshake: fc.boolean(),
      }),
    },
    {
      weight: 4,
      arbitrary: fc.record({
        kind: fc.constant("get" as const),
        path,
        resume: fc.constantFrom("none" as const, "none" as const, "wrongPrefix" as const),
      }),
    },
    { weight: 2, arbitrary: fc.record({ kind: fc.constantFrom("list" as const, "stat" as const), path }) },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant("mkdir" as const),
        path,
        parents: cases.mkdirParents ? fc.boolean() : fc.constant(false),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({ kind: fc.constant("delete" as const), path, recursive: fc.boolean() }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant("rename" as const),
        from: path,
        to: path,
        overwrite: fc.boolean(),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({ kind: fc.constant("bad" as const), header: fc.constantFrom(...BAD_HEADERS) }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant("orphan" as const),
        cmd: fc.constantFrom("data" as const, "end" as const),
        size: fc.nat({ max: 200 }),
      }),
    },
  ];
  if (cases.malformedPutFrames) {
    steps.push(
      {
        weight: 2,
        arbitrary: fc.record({
          kind: fc.constant("malformedPutFrame" as const),
          which: fc.constantFrom("data" as const, "end" as const),
          path,
          blob: blobIndex,
        }),
      },
      {
        weight: 1,
        arbitrary: fc.record({
          kind: fc.constant("malformedOrphan" as const),
          which: fc.constantFrom("data" as const, "end" as const),
        }),
      },
    );
  }
  return fc.oneof(...steps);
}

function terminalArb(): fc.Arbitrary<Terminal> {
  const path = pathArb();
  const blobIndex = fc.nat({ max: 3 });
  return fc.oneof(
    { weight: 6, arbitrary: fc.constant<Terminal>({ kind: "none" }) },
    { weight: 2, arbitrary: fc.constant<Terminal>({ kind: "bye" }) },
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant("fatal" as const),
        what: fc.constantFrom<FatalKind>(
          "prefixHuge",
          "prefixOver",
          "zeroLength",
          "notJson",
          "array",
          "badUtf8",
          "negativeDataSize",
          "idNotANumber",
          "noId",
        ),
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant("cut" as const),
        victim: fc.constantFrom("put" as const, "put" as const, "get" as const),
        path: fc.oneof(fc.constantFrom("a", "new", "/new", "d/./cut"), path),
        blob: blobIndex,
        // Not fc.double: it favours values near 0, which would cut nearly every put in its header.
        at: fc.nat({ max: 999 }).map((n) => n / 1000),
        resumeNext: fc.boolean(),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant("lie" as const),
        victim: fc.constantFrom("put" as const, "putDeclared" as const, "orphan" as const),
        path,
        blob: blobIndex,
        extra: fc.oneof(fc.integer({ min: 1, max: 5000 }), fc.constant(2 ** 40)),
      }),
    },
  );
}

export function runArb(cases: FuzzCases): fc.Arbitrary<Run> {
  const connection = fc.record({
    steps: fc.array(stepArb(cases), { minLength: 0, maxLength: 14 }),
    terminal: terminalArb(),
  });
  return fc.record({
    blobs: fc.array(blobArb, { minLength: 4, maxLength: 4 }),
    connections: fc.array(connection, { minLength: 1, maxLength: 3 }),
  });
}

/** The bytes of a blob; big ones are made from a seed so that a failing run replays exactly. */
export function blobBytes(b: Blob): Buffer {
  if (b.kind === "small") return Buffer.from(b.bytes);
  const out = Buffer.allocUnsafe(b.size);
  let x = b.seed >>> 0 || 1;
  for (let i = 0; i < out.length; i++) {
    // xorshift32: cheap, deterministic, not constant (so a wrong offset changes the md5)
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}
