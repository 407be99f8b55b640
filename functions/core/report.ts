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
  /** Region entries (core/accounting.ts): the format that could not carry the result. */
  format?: string;
  /** Region entries: the annotation's `id`. */
  annotationId?: string | number;
  /** Region entries: the result's `id` (region id). */
  resultId?: string | number;
  /** Region entries: the result's `from_name` (control name). */
  fromName?: string;
  /** Region entries: the result's `type` (e.g. `polygonlabels`), else its control's type. */
  type?: string;
}

/** Results of annotations per format: written into the output, or left out (each one reported). */
export interface RegionCounts {
  exported: number;
  skipped: number;
}

export interface ReportJson {
  skipped: ReportEntry[];
  warnings: ReportEntry[];
  skippedCount: number;
  warningCount: number;
  /** True when more entries happened than were kept. */
  truncated: boolean;
  /** Per format: results written / left out (present once a writer accounted for results). */
  regions?: Record<string, RegionCounts>;
  /** Tasks left out by `onlyAnnotated` (no non-cancelled annotation), when the option is on. */
  tasksWithoutAnnotations?: number;
}

/** Distinct (format, reason) keys Report counts skips for (the rest are still in skippedCount). */
const REASON_KEYS = 1_000;

/**
 * Collects skips and warnings; keeps the first `limit` of each so memory stays bounded. The same
 * entry reported twice (several formats rendered in one pass see the same task) counts once.
 */
export class Report {
  readonly skipped: ReportEntry[] = [];
  readonly warnings: ReportEntry[] = [];
  skippedCount = 0;
  warningCount = 0;
  /** Per format result counts, filled by core/accounting.ts. */
  readonly regions = new Map<string, RegionCounts>();
  /** Tasks left out by `onlyAnnotated`; undefined when the option is off. */
  tasksWithoutAnnotations?: number;
  /**
   * Skips counted by reason, past the entry limit too (`skipReasonCounts`): key `format` (empty for
   * a whole input) and reason. At most REASON_KEYS distinct keys; later new ones are not counted.
   */
  private readonly reasons = new Map<
    string,
    { format: string; input: boolean; reason: string; count: number }
  >();
  private readonly seen = new Set<string>();

  constructor(private readonly limit = 10_000) {}

  private isRepeat(kind: string, entry: ReportEntry): boolean {
    const key = [
      kind,
      entry.source,
      entry.taskId ?? '',
      entry.reason,
      entry.format ?? '',
      entry.annotationId ?? '',
      entry.resultId ?? '',
      entry.fromName ?? '',
    ].join('\u0000');
    if (this.seen.has(key)) return true;
    if (this.seen.size < this.limit * 2) this.seen.add(key);
    return false;
  }

  skip(entry: ReportEntry): void {
    if (this.isRepeat('s', entry)) return;
    this.skippedCount++;
    const input = !entry.resultId && !entry.format;
    const key = `${entry.format ?? ''}\u0000${input ? 'i' : 'r'}\u0000${entry.reason}`;
    const counted = this.reasons.get(key);
    if (counted) counted.count++;
    else if (this.reasons.size < REASON_KEYS)
      this.reasons.set(key, { format: entry.format ?? '', input, reason: entry.reason, count: 1 });
    if (this.skipped.length < this.limit) this.skipped.push(entry);
  }

  warn(entry: ReportEntry): void {
    if (this.isRepeat('w', entry)) return;
    this.warningCount++;
    if (this.warnings.length < this.limit) this.warnings.push(entry);
  }

  /**
   * How many skips each reason had, counted past the entry limit: `input` entries are whole inputs
   * (no format, no result); the others belong to `format` (empty when none was named).
   */
  skipReasonCounts(): Array<{ format: string; input: boolean; reason: string; count: number }> {
    return [...this.reasons.values()];
  }

  /** The result counts of one format (created at zero on first use). */
  regionCounts(format: string): RegionCounts {
    let c = this.regions.get(format);
    if (!c) {
      c = { exported: 0, skipped: 0 };
      this.regions.set(format, c);
    }
    return c;
  }

  /**
   * Adds another report's per-format result counts and left-out tasks (the reports of segments
   * rendered apart); its entries are added by skip/warn.
   */
  addCounts(json: Pick<ReportJson, 'regions' | 'tasksWithoutAnnotations'>): void {
    for (const [format, c] of Object.entries(json.regions ?? {})) {
      const mine = this.regionCounts(format);
      mine.exported += c.exported;
      mine.skipped += c.skipped;
    }
    if (json.tasksWithoutAnnotations !== undefined)
      this.tasksWithoutAnnotations = (this.tasksWithoutAnnotations ?? 0) + json.tasksWithoutAnnotations;
  }

  /** Results left out over all formats (0 when no writer accounted for results). */
  get regionsSkipped(): number {
    let n = 0;
    for (const c of this.regions.values()) n += c.skipped;
    return n;
  }

  toJSON(): ReportJson {
    const json: ReportJson = {
      skipped: this.skipped,
      warnings: this.warnings,
      skippedCount: this.skippedCount,
      warningCount: this.warningCount,
      truncated: this.skippedCount > this.skipped.length || this.warningCount > this.warnings.length,
    };
    if (this.regions.size > 0) json.regions = Object.fromEntries(this.regions);
    if (this.tasksWithoutAnnotations !== undefined)
      json.tasksWithoutAnnotations = this.tasksWithoutAnnotations;
    return json;
  }
}

/** Short text for an error, without a stack. */
export function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
