/**
 * Bytes shared by many holders, handed out first come, first served: `take(n)` waits until `n`
 * bytes are free. Waiters are served in order, so a big request is not starved by small ones.
 */
export class ByteBudget {
  private free: number;
  private readonly waiters: { n: number; resolve: () => void }[] = [];

  constructor(readonly capacity: number) {
    this.free = capacity;
  }

  /** Takes `n` bytes (at most the capacity), waiting while they are not free. */
  async take(n: number): Promise<void> {
    const want = Math.min(n, this.capacity);
    if (this.waiters.length === 0 && this.free >= want) {
      this.free -= want;
      return;
    }
    await new Promise<void>((resolve) => this.waiters.push({ n: want, resolve }));
  }

  give(n: number): void {
    this.free = Math.min(this.capacity, this.free + Math.min(n, this.capacity));
    while (this.waiters.length > 0) {
      const next = this.waiters[0] as { n: number; resolve: () => void };
      if (this.free < next.n) break;
      this.free -= next.n;
      this.waiters.shift();
      next.resolve();
    }
  }

  get available(): number {
    return this.free;
  }
}
