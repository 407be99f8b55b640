/**
 * What an export skipped or had to correct, with where it came from and why. Written as
 * `report.json` by the CLI and into the manifest by the pipeline.
 */

export interface ReportEntry {
  /** Where the input came from: a file path, an object key, `file.json[12]` for an array element. */
  source: string;
  /** The task id, when known. */
  taskId?: string | number;
  reason: string;
}

export interface ReportJson {
  skipped: ReportEntry[];
  warnings: ReportEntry[];
  skippedCount: number;
  warningCount: number;
  /** True when more entries happened than were kept. */
  truncated: boolean;
}

/**
 * Collects skips and warnings; keeps the first `limit` of each so memory stays bounded. The same
 * entry reported twice (several formats rendered in one pass see the same task) counts once.
 */
export class Report {
  readonly skipped: ReportEntry[] = [];
  readonly warnings: ReportEntry[] = [];
  skippedCount = 0;
  warningCount = 0;
  private readonly seen = new Set<string>();

  constructor(private readonly limit = 10_000) {}

  private isRepeat(kind: string, entry: ReportEntry): boolean {
    const key = `${kind}\u0000${entry.source}\u0000${entry.taskId ?? ''}\u0000${entry.reason}`;
    if (this.seen.has(key)) return true;
    if (this.seen.size < this.limit * 2) this.seen.add(key);
    return false;
  }

  skip(entry: ReportEntry): void {
    if (this.isRepeat('s', entry)) return;
    this.skippedCount++;
    if (this.skipped.length < this.limit) this.skipped.push(entry);
  }

  warn(entry: ReportEntry): void {
    if (this.isRepeat('w', entry)) return;
    this.warningCount++;
    if (this.warnings.length < this.limit) this.warnings.push(entry);
  }

  toJSON(): ReportJson {
    return {
      skipped: this.skipped,
      warnings: this.warnings,
      skippedCount: this.skippedCount,
      warningCount: this.warningCount,
      truncated: this.skippedCount > this.skipped.length || this.warningCount > this.warnings.length,
    };
  }
}

/** Short text for an error, without a stack. */
export function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
