/**
 * Runs slow steps (media copies) a few at a time while keeping their results in input order:
 * each job returns its output once done; outputs are released in the order jobs were added.
 * At most `limit` jobs are pending, so memory stays bounded.
 */
export class OrderedWork<T> {
  private readonly pending: Array<Promise<T>> = [];

  constructor(
    private readonly limit: number,
    private readonly emit: (value: T) => void | Promise<void>,
  ) {}

  /** Adds a job; waits first while `limit` jobs are pending, releasing the oldest. */
  async add(job: () => Promise<T>): Promise<void> {
    while (this.pending.length >= this.limit) await this.emit(await this.pending.shift()!);
    const p = job();
    p.catch(() => {}); // errors surface when the job's turn comes
    this.pending.push(p);
  }

  /** Waits for every job and releases the remaining outputs in order. */
  async drain(): Promise<void> {
    while (this.pending.length > 0) await this.emit(await this.pending.shift()!);
  }
}
