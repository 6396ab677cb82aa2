import { type GetRequest, type PutRequest, type SumRequest, toFerryError } from "@ferry/protocol";
import { prepareGet, sendGet } from "./commands/get.js";
import { type ReceivedPut, receiveSmallPut } from "./commands/put/small.js";
import { answerPut, type CommitTurn, verifyAndCommit } from "./commands/put/tail.js";
import { computeSum } from "./commands/sum.js";
import type { SessionIO } from "./context.js";
import { resolvePath } from "./storage/path.js";

/** Requests of one session in flight at once, and the bytes of file data they may hold in memory. */
export const PIPELINE_MAX_REQUESTS = 32;
export const PIPELINE_MAX_BYTES = 4 * 1024 * 1024;

interface Item {
  bytes: number;
  readonly done: Promise<void>;
}

/**
 * Overlaps the disk work of consecutive small puts, or of consecutive gets, on one connection while
 * keeping what PROTOCOL.md §5 promises: replies leave in request order, and every request sees the
 * effects of the ones before it.
 *
 * - Small streamed puts: admission and payload are read in order by the session; the private
 *   staging file is written at once (a file of at most SYNC_IO_MAX with inline calls, see the local
 *   store), and the fsyncs of several puts' staging files then overlap; the commits (the rename or
 *   link that makes the file visible) run strictly one after another in request order; `done` goes
 *   out in order once the put's own commit is in place and, with fsync, once a directory sync that
 *   started after that commit has finished. So `done` still means durable, and a burst into one
 *   directory shares its directory syncs (group commit).
 * - Gets and sums have no effects: several are opened, checked and (when small) read, or hashed, at
 *   once; they are answered in order, each whole before the next.
 * - A put after gets, a get after puts, and any other request wait until everything before them is
 *   answered (`drain`), so each sees all earlier effects; the session then runs them as before.
 *
 * Memory: at most {@link PIPELINE_MAX_REQUESTS} requests and about {@link PIPELINE_MAX_BYTES} of
 * file data per connection; the session stops reading the socket while that is full.
 */
export class Pipeline {
  private group: "put" | "read" | null = null;
  private readonly items: Item[] = [];
  private bytes = 0;
  /** The answer of the latest request: each waits for the previous one before it sends. */
  private replies: Promise<void> = Promise.resolve();
  /** The latest commit: each put's commit waits for the previous one. */
  private commits: Promise<void> = Promise.resolve();
  /** Budget reservations of gets, taken in request order so that none can starve an earlier one. */
  private reservations: Promise<void> = Promise.resolve();
  /** Targets of puts taken but not yet answered. */
  private readonly pending = new Map<string, number>();

  constructor(
    private readonly io: SessionIO,
    /** Answers a failed request (or, if the stream is broken, ends the connection). Never rejects. */
    private readonly fail: (id: number, err: unknown) => Promise<void>,
  ) {}

  get idle(): boolean {
    return this.items.length === 0;
  }

  /** Resolves once every request taken so far is answered. Never rejects. */
  async drain(): Promise<void> {
    while (this.items.length > 0) await this.items[this.items.length - 1]?.done;
    this.group = null;
  }

  /**
   * A small streamed put. Resolves once its payload is read (the session may read on); rejects only
   * when the connection is lost, which ends the session.
   */
  async put(req: PutRequest): Promise<void> {
    await this.enter("put");
    // A put below a name an earlier put is still committing (put "d", then put "d/e" with parents)
    // must see that commit before its admission, as it would one request at a time.
    let names: readonly string[] = [];
    try {
      names = resolvePath(req.path).names;
    } catch {
      // admission answers it, in its turn
    }
    for (let i = 1; i < names.length; i++) {
      if (this.pending.has(names.slice(0, i).join("/"))) {
        await this.drain();
        break;
      }
    }
    await this.room(req.size);
    const started = performance.now();
    let moved = 0;
    const log = (result: string) =>
      this.io.transfer({
        cmd: "put",
        path: req.path,
        bytes: moved,
        size: req.size,
        offset: 0,
        seconds: (performance.now() - started) / 1000,
        result,
      });
    let received: ReceivedPut;
    try {
      received = await receiveSmallPut(req, this.io, (n) => {
        moved += n;
      });
    } catch (err) {
      const e = toFerryError(err);
      log(e.code);
      if (e.code === "ECONNLOST" || e.code === "ETIMEDOUT") throw e;
      this.add(req.id, 0, () => this.fail(req.id, e));
      return;
    }
    // The tail starts now (the fsyncs of several puts' staging overlap); its commit waits for its turn.
    const turn = this.nextTurn();
    const committed = verifyAndCommit(received.upload, received.expected, turn.run).finally(turn.pass);
    committed.catch(() => {}); // observed by the answer below
    const rel = names.join("/"); // admission resolved this same path
    this.pending.set(rel, (this.pending.get(rel) ?? 0) + 1);
    this.add(req.id, req.size, async () => {
      try {
        await answerPut(req, received.upload, await committed, this.io);
      } catch (err) {
        log(toFerryError(err).code);
        await this.fail(req.id, err);
        return;
      } finally {
        const left = (this.pending.get(rel) ?? 1) - 1;
        if (left > 0) this.pending.set(rel, left);
        else this.pending.delete(rel);
        await received.upload.abort(false); // a no-op once committed
      }
      log("ok");
    });
  }

  /** A get: opened and read ahead, sent in its turn. Resolves at once (the session may read on). */
  async get(req: GetRequest): Promise<void> {
    await this.read(
      req.id,
      (reserve) => prepareGet(req, this.io, reserve),
      (p) => sendGet(p, this.io),
    );
  }

  /** A sum: hashed ahead (cache first), answered in its turn. Resolves at once. */
  async sum(req: SumRequest): Promise<void> {
    await this.read(
      req.id,
      (reserve) => computeSum(req, this.io, reserve),
      (reply) => this.io.send(reply),
    );
  }

  /**
   * A request without effects (get, sum): `prepare` runs at once, alongside the ones before it, and
   * calls `reserve` before it takes memory; `send` runs in request order.
   */
  private async read<P>(
    id: number,
    prepare: (reserve: (bytes: number) => Promise<void>) => Promise<P>,
    send: (prepared: P) => Promise<void>,
  ): Promise<void> {
    await this.enter("read");
    await this.room(0);
    let reserved!: () => void;
    const before = this.reservations;
    this.reservations = new Promise((resolve) => {
      reserved = resolve;
    });
    const item = this.add(id, 0, async () => {
      let p: P;
      try {
        p = await prepared;
      } catch (err) {
        await this.fail(id, err);
        return;
      }
      try {
        await send(p);
      } catch (err) {
        await this.fail(id, err);
      }
    });
    const prepared = prepare(async (bytes) => {
      await before;
      await this.room(bytes, item);
      item.bytes = bytes;
      this.bytes += bytes;
      reserved();
    }).finally(() => reserved());
    prepared.catch(() => {}); // observed by the reply above
  }

  /**
   * The next commit's turn, taken in request order: `run` commits once the previous put's commit
   * has succeeded or failed; `pass` gives the turn up (idempotent), so that a tail failing before
   * its commit (ECHECKSUM, a failed stage) does not hold up the next one.
   */
  private nextTurn(): { run: CommitTurn; pass: () => void } {
    const previous = this.commits;
    let pass!: () => void;
    this.commits = new Promise<void>((resolve) => {
      pass = resolve;
    });
    const run: CommitTurn = async (commit) => {
      try {
        await previous;
        await commit();
      } finally {
        pass();
      }
    };
    return { run, pass };
  }

  /** Requests of another kind wait for everything before them. */
  private async enter(group: "put" | "read"): Promise<void> {
    if (this.group !== group) await this.drain();
    this.group = group;
  }

  /** Waits until one more request (holding `bytes`) fits; `self` is not waited for. */
  private async room(bytes: number, self?: Item): Promise<void> {
    for (;;) {
      const first = this.items[0];
      if (!first || first === self) return;
      const full =
        (!self && this.items.length >= PIPELINE_MAX_REQUESTS) ||
        (this.bytes > 0 && this.bytes + bytes > PIPELINE_MAX_BYTES);
      if (!full) return;
      await first.done;
    }
  }

  /** Queues a request's answer behind the previous one's. */
  private add(id: number, bytes: number, answer: () => Promise<void>): Item {
    this.bytes += bytes;
    const item: Item = {
      bytes,
      done: this.replies
        .then(answer)
        .catch((err) => this.fail(id, err))
        .finally(() => {
          this.items.splice(this.items.indexOf(item), 1);
          this.bytes -= item.bytes;
        }),
    };
    this.items.push(item);
    this.replies = item.done;
    return item;
  }
}
