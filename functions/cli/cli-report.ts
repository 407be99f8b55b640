/**
 * The report of one `ls-export convert` run: core's Report, also counting each format's own skips
 * (entries that name a format), so the summary can tell a format's left-out items (an ASR_MANIFEST
 * item whose audio is refused) from the run's skipped inputs (a malformed task, an unreadable file).
 * Reasons name an export option the way the CLI spells it: core writes `option brushMaxTaskPixels`
 * (the pipeline's name), the CLI user reads `--brush-max-task-pixels`.
 */
import type { FormatRegistry } from '../core/formats/registry.ts';
import { Report, type ReportEntry } from '../core/report.ts';

/** `option <name>` in a reason. */
const OPTION = /\boption ([A-Za-z][A-Za-z0-9]*)\b/g;

/** Each export option with a CLI spelling: `--flag`, or `--fix NAME` for a fix switch. */
export function cliOptionNames(registry: FormatRegistry): Map<string, string> {
  const names = new Map<string, string>();
  for (const f of registry.flags()) names.set(f.option, `--${f.flag}`);
  for (const [name, fix] of Object.entries(registry.fixes())) names.set(fix.option, `--fix ${name}`);
  return names;
}

export class CliReport extends Report {
  /** Skips per format, counted once each (a repeated entry is not counted, as in skippedCount). */
  private readonly formatSkips = new Map<string, number>();

  /** `optionNames`: export option → its CLI spelling (cliOptionNames); none: reasons kept as they are. */
  constructor(private readonly optionNames: ReadonlyMap<string, string> = new Map()) {
    super();
  }

  /** The entry with `option <name>` in its reason spelt as the CLI flag. */
  private cliSpelling(entry: ReportEntry): ReportEntry {
    const { reason } = entry;
    if (!reason.includes('option ')) return entry;
    const spelt = reason.replace(OPTION, (text, name: string) => this.optionNames.get(name) ?? text);
    return spelt === reason ? entry : { ...entry, reason: spelt };
  }

  override skip(entry: ReportEntry): void {
    const before = this.skippedCount;
    super.skip(this.cliSpelling(entry));
    if (entry.format !== undefined && this.skippedCount > before)
      this.formatSkips.set(entry.format, (this.formatSkips.get(entry.format) ?? 0) + 1);
  }

  override warn(entry: ReportEntry): void {
    super.warn(this.cliSpelling(entry));
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
