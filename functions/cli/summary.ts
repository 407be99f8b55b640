/** The summary `ls-export convert` prints on stderr when it is done: counts that are true, in words. */
import type { RegionCounts } from '../core/report.ts';

/** `1 task`, `2 tasks`, `1,500 tasks`. */
export function plural(n: number, noun: string, nouns = `${noun}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? noun : nouns}`;
}

/**
 * A rate in tasks per second: whole tasks from 10 a second (`1,234 tasks/s`), at most one decimal
 * from 1 (`3.5 tasks/s`, `3 tasks/s`), one significant digit below (`0.5 tasks/s`, `0.05 tasks/s`), so a slow run is
 * not shown as `0 tasks/s`. `seconds` > 0.
 */
export function taskRate(tasks: number, seconds: number): string {
  const r = tasks / seconds;
  const n =
    r >= 10
      ? Math.round(r).toLocaleString('en-US')
      : String(Number(r >= 1 ? r.toFixed(1) : r.toPrecision(1)));
  return `${n} tasks/s`;
}

/** What one format left. */
export interface FormatResult {
  format: string;
  /** The export file was copied byte for byte (JSON from a JSON export file). */
  copied: boolean;
  /** The folder, .csv file or zip shown to the user. */
  into: string;
  /** Distinct files left on disk (a file rewritten during the run counts once). */
  files: number;
  /**
   * Items the format left out whole, counted under it and not as the run's skipped inputs (an
   * ASR_MANIFEST item without results whose audio was refused).
   */
  itemsSkipped?: number;
  /** The format wrote no byte (an ASR manifest without a line): nothing of the tasks was exported. */
  empty?: boolean;
}

export interface SummaryInput {
  results: FormatResult[];
  /** Tasks read; undefined when nothing was converted (only a byte-for-byte copy). */
  tasks?: number;
  seconds: number;
  skipped: number;
  warnings: number;
  reportName: string;
  /** Results per format: written / left out (core/accounting.ts). */
  regions?: Record<string, RegionCounts>;
  /** Tasks left out by --only-annotated. */
  tasksWithoutAnnotations?: number;
}

/**
 * `; regions 5 exported, 2 skipped` for a format that accounted for its results, then
 * `; 2 items skipped` when it left out items whole.
 */
function regionText(c: RegionCounts | undefined, r: FormatResult): string {
  const items = r.itemsSkipped ? `; ${plural(r.itemsSkipped, 'item')} skipped` : '';
  if (!c) return items;
  return `; regions ${c.exported.toLocaleString('en-US')} exported, ${c.skipped.toLocaleString('en-US')} skipped${items}`;
}

/**
 * True when a format left out every region (result) it had: then "exported N tasks" would claim
 * more than was written (QA D3: ASR_MANIFEST with all items left out and an empty manifest.json).
 * A format without region accounting, or whose tasks had no regions, wrote the tasks as they are
 * (a CSV row, a CONLL document with `O` tags).
 */
function keptNothing(c: RegionCounts | undefined): boolean {
  return c !== undefined && c.exported === 0 && c.skipped > 0;
}

/**
 * What a format kept of the `tasks` read when it kept nothing: `no region of them exported` (every
 * region it had left out), `none of them exported` (it wrote no byte); else undefined. The same
 * words for the one-format summary and for each format's line of a several-format run.
 */
function nothingKept(r: FormatResult, c: RegionCounts | undefined, tasks: number): string | undefined {
  if (keptNothing(c)) return 'no region of them exported';
  if (r.empty && tasks > 0) return 'none of them exported';
  return undefined;
}

/**
 * One line for one format (`ls-export: exported 3 tasks as COCO into out (2 files) in 0.1 s …`),
 * or a line for the run followed by one indented line per format.
 */
export function summaryLine(s: SummaryInput): string {
  const rate = s.tasks && s.seconds > 0 ? ` (${taskRate(s.tasks, s.seconds)})` : '';
  const regionsSkipped = Object.values(s.regions ?? {}).reduce((n, c) => n + c.skipped, 0);
  const itemsSkipped = s.results.reduce((n, r) => n + (r.itemsSkipped ?? 0), 0);
  // The report's skips count regions and formats' items too (shown per format): inputs are the
  // rest (tasks, elements, files).
  const inputsSkipped = Math.max(0, s.skipped - regionsSkipped - itemsSkipped);
  // "nothing skipped" only when no input, item or region was left out.
  const skipped = inputsSkipped
    ? `; ${plural(inputsSkipped, 'input')} skipped`
    : regionsSkipped || itemsSkipped
      ? ''
      : '; nothing skipped';
  const leftOut = s.tasksWithoutAnnotations
    ? `; ${plural(s.tasksWithoutAnnotations, 'task')} without annotations left out`
    : '';
  const warned = s.warnings ? `, ${plural(s.warnings, 'warning')}` : '';
  const single = s.results.length === 1 ? regionText(s.regions?.[s.results[0].format], s.results[0]) : '';
  const tail = `in ${s.seconds.toFixed(1)} s${rate}${single}${skipped}${leftOut}${warned} — see ${s.reportName}`;
  const files = (r: FormatResult) => `(${plural(r.files, 'file')})`;
  if (s.results.length === 1) {
    const [r] = s.results;
    const nothing = s.tasks === undefined ? undefined : nothingKept(r, s.regions?.[r.format], s.tasks);
    const what =
      s.tasks === undefined
        ? 'copied the export'
        : nothing
          ? `read ${plural(s.tasks, 'task')}, ${nothing}`
          : `exported ${plural(s.tasks, 'task')}`;
    return `ls-export: ${what} as ${r.format} into ${r.into} ${files(r)} ${tail}\n`;
  }
  const width = Math.max(...s.results.map((r) => r.format.length));
  const lines = s.results.map((r) => {
    // A format that kept nothing of the tasks says so, as the one-format summary does.
    const nothing =
      r.copied || s.tasks === undefined ? undefined : nothingKept(r, s.regions?.[r.format], s.tasks);
    const what = nothing ?? (r.copied ? 'copied' : 'written');
    return `  ${r.format.padEnd(width)}  ${what} into ${r.into} ${files(r)}${regionText(s.regions?.[r.format], r)}\n`;
  });
  const read = s.tasks === undefined ? 'copied the export' : `read ${plural(s.tasks, 'task')}`;
  return `ls-export: ${read} once, ${s.results.length} formats ${tail}\n${lines.join('')}`;
}
