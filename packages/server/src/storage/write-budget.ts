/** Memory all uploads' write buffers may take together, and the sizes one upload may get. */
export const WRITE_BUDGET_BYTES = 64 * 1024 * 1024;
const MAX_BLOCK = 1024 * 1024;
const MIN_BLOCK = 64 * 1024;

/**
 * Sizes the coalescing buffers of big uploads so that many at once stay within a budget: one upload
 * alone gets 1 MiB blocks (the fastest), 300 at once get 64-128 KiB blocks instead of holding
 * 600 MB of buffers between them.
 */
export class WriteBudget {
  private active = 0;

  /** Block size for a new upload (two such buffers); call `release` when it ends. */
  acquire(): { size: number; release: () => void } {
    this.active++;
    const share = WRITE_BUDGET_BYTES / (2 * this.active);
    let size = MAX_BLOCK;
    while (size > MIN_BLOCK && size > share) size /= 2;
    let released = false;
    return {
      size,
      release: () => {
        if (released) return;
        released = true;
        this.active--;
      },
    };
  }
}
