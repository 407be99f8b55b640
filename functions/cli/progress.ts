/** A progress line on stderr for long runs: tasks read and tasks per second. */
import { plural, taskRate } from './summary.ts';

export class Progress {
  private readonly started = Date.now();
  private lastPrint = 0;
  private printed = false;

  constructor(
    private readonly enabled: boolean,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {}

  elapsedSeconds(): number {
    return (Date.now() - this.started) / 1000;
  }

  update(tasks: number): void {
    if (!this.enabled) return;
    const now = Date.now();
    // Quiet for short runs; then at most twice a second on a terminal, every 5 s in a log.
    const interval = this.stream.isTTY ? 500 : 5000;
    if (now - this.started < 2000 || now - this.lastPrint < interval) return;
    this.lastPrint = now;
    const text = `ls-export: ${plural(tasks, 'task')} read (${taskRate(tasks, this.elapsedSeconds())})`;
    if (this.stream.isTTY) this.stream.write(`\r${text}\x1b[K`);
    else this.stream.write(`${text}\n`);
    this.printed = true;
  }

  done(): void {
    if (this.printed && this.stream.isTTY) this.stream.write('\r\x1b[K');
  }
}
