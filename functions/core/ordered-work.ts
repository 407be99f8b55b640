/**
 * Runs slow steps (media copies, files read for a zip) a few at a time while keeping their results
 * in input order: each job returns its output once done; outputs are released in the order jobs
 * were added. At most `limit` jobs are pending, and (with `maxBytes`) at most that many bytes by
 * the jobs' announced sizes — except one job alone, which may be larger — so memory stays bounded.
 */
export class OrderedWork<T> {
  private readonly pending: Array<{ result: Promise<T>; bytes: number }> = [];
  private pendingBytes = 0;

  constructor(
    private readonly limit: number,
    private readonly emit: (value: T) => void | Promise<void>,
    private readonly maxBytes = Number.POSITIVE_INFINITY,
  ) {}

  private async releaseOldest(): Promise<void> {
    const { result, bytes } = this.pending.shift()!;
    this.pendingBytes -= bytes;
    await this.emit(await result);
  }

  /**
   * Adds a job that will hold about `bytes` (default 0) until released; waits first while `limit`
   * jobs, or `maxBytes` with this one, are pending, releasing the oldest. A job's rejection is
   * thrown when its turn to be released comes.
   */
  async add(job: () => Promise<T>, bytes = 0): Promise<void> {
    while (
      this.pending.length >= this.limit ||
      (this.pending.length > 0 && this.pendingBytes + bytes > this.maxBytes)
    )
      await this.releaseOldest();
    const result = job();
    result.catch(() => {}); // errors surface when the job's turn comes
    this.pending.push({ result, bytes });
    this.pendingBytes += bytes;
  }

  /** Waits for every job and releases the remaining outputs in order. */
  async drain(): Promise<void> {
    while (this.pending.length > 0) await this.releaseOldest();
  }
}
