/** The summary `ls-export convert` prints on stderr when it is done: counts that are true, in words. */
import type { RegionCounts } from '../core/report.ts';

/** `1 task`, `2 tasks`, `1,500 tasks`. */
export function plural(n: number, noun: string, nouns = `${noun}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? noun : nouns}`;
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

/** `; regions 5 exported, 2 skipped` for a format that accounted for its results. */
function regionText(c: RegionCounts | undefined): string {
  if (!c) return '';
  return `; regions ${c.exported.toLocaleString('en-US')} exported, ${c.skipped.toLocaleString('en-US')} skipped`;
}

/**
 * One line for one format (`ls-export: exported 3 tasks as COCO into out (2 files) in 0.1 s …`),
 * or a line for the run followed by one indented line per format.
 */
export function summaryLine(s: SummaryInput): string {
  const rate = s.tasks && s.seconds > 0 ? ` (${plural(Math.round(s.tasks / s.seconds), 'task')}/s)` : '';
  const regionsSkipped = Object.values(s.regions ?? {}).reduce((n, c) => n + c.skipped, 0);
  // The report's skips count regions too (each also in `regions`, shown per format): inputs are
  // the rest (tasks, elements, files).
  const inputsSkipped = Math.max(0, s.skipped - regionsSkipped);
  // "nothing skipped" only when no input and no region was left out.
  const skipped = inputsSkipped
    ? `; ${plural(inputsSkipped, 'input')} skipped`
    : regionsSkipped
      ? ''
      : '; nothing skipped';
  const leftOut = s.tasksWithoutAnnotations
    ? `; ${plural(s.tasksWithoutAnnotations, 'task')} without annotations left out`
    : '';
  const warned = s.warnings ? `, ${plural(s.warnings, 'warning')}` : '';
  const single = s.results.length === 1 ? regionText(s.regions?.[s.results[0].format]) : '';
  const tail = `in ${s.seconds.toFixed(1)} s${rate}${single}${skipped}${leftOut}${warned} — see ${s.reportName}`;
  const files = (r: FormatResult) => `(${plural(r.files, 'file')})`;
  if (s.results.length === 1) {
    const [r] = s.results;
    const what = s.tasks === undefined ? 'copied the export' : `exported ${plural(s.tasks, 'task')}`;
    return `ls-export: ${what} as ${r.format} into ${r.into} ${files(r)} ${tail}\n`;
  }
  const width = Math.max(...s.results.map((r) => r.format.length));
  const lines = s.results.map(
    (r) =>
      `  ${r.format.padEnd(width)}  ${r.copied ? 'copied' : 'written'} into ${r.into} ${files(r)}${regionText(s.regions?.[r.format])}\n`,
  );
  const read = s.tasks === undefined ? 'copied the export' : `read ${plural(s.tasks, 'task')}`;
  return `ls-export: ${read} once, ${s.results.length} formats ${tail}\n${lines.join('')}`;
}
