/**
 * The report of one `ls-export convert` run: core's Report, also counting each format's own skips
 * (entries that name a format), so the summary can tell a format's left-out items (an ASR_MANIFEST
 * item whose audio is refused) from the run's skipped inputs (a malformed task, an unreadable file).
 */
import { Report, type ReportEntry } from '../core/report.ts';

export class CliReport extends Report {
  /** Skips per format, counted once each (a repeated entry is not counted, as in skippedCount). */
  private readonly formatSkips = new Map<string, number>();

  override skip(entry: ReportEntry): void {
    const before = this.skippedCount;
    super.skip(entry);
    if (entry.format !== undefined && this.skippedCount > before)
      this.formatSkips.set(entry.format, (this.formatSkips.get(entry.format) ?? 0) + 1);
  }

  /**
   * Items `format` left out whole (an entry naming the format that is not one of its region
   * skips, e.g. an ASR item without results whose audio was refused); 0 when there were none.
   */
  itemsSkipped(format: string): number {
    const all = this.formatSkips.get(format) ?? 0;
    return Math.max(0, all - (this.regions.get(format)?.skipped ?? 0));
  }
}
