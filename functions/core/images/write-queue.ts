/**
 * Output writes in flight, a bounded number at a time. One-file-per-image formats write tens of
 * thousands of small files; issuing them one by one leaves the export waiting on the file system
 * or S3 most of the time. Writes to one path stay in order (the last one wins, as when they run one
 * by one); a failed write fails the export at the next call or at `drain`.
 */
export class WriteQueue {
  private readonly inFlight = new Set<Promise<void>>();
  private readonly lastByPath = new Map<string, Promise<void>>();
  private failure: { error: unknown } | undefined;

  constructor(private readonly limit = 32) {}

  /** Whether a write to this path was queued and has not finished. */
  pending(path: string): boolean {
    return this.lastByPath.has(path);
  }

  /** Queues a write; resolves once it has started (waiting for room when the queue is full). */
  async write(path: string, op: () => Promise<void>): Promise<void> {
    this.rethrow();
    while (this.inFlight.size >= this.limit) await Promise.race(this.inFlight);
    this.rethrow();
    const previous = this.lastByPath.get(path);
    const run = previous ? previous.then(op) : op();
    const tracked: Promise<void> = run.then(
      () => undefined,
      (error: unknown) => {
        this.failure ??= { error };
      },
    );
    const done = tracked.finally(() => {
      this.inFlight.delete(done);
      if (this.lastByPath.get(path) === done) this.lastByPath.delete(path);
    });
    this.inFlight.add(done);
    this.lastByPath.set(path, done);
  }

  /** Waits for every queued write; throws the first failure. */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
    this.rethrow();
  }

  private rethrow(): void {
    if (this.failure) throw this.failure.error;
  }
}
