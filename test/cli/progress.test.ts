/** The progress line and the summary's rate: plural agreement, and no "0 tasks/s" for a slow run (QA s6 newcomer F11). */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Progress } from '../../functions/cli/progress.ts';
import { summaryLine, taskRate } from '../../functions/cli/summary.ts';

afterEach(() => vi.useRealTimers());

/** A log stream (not a terminal) that keeps what is written. */
function logStream() {
  const lines: string[] = [];
  const stream = { isTTY: false, write: (t: string) => lines.push(t) } as unknown as NodeJS.WriteStream;
  return { stream, lines };
}

describe('Progress', () => {
  it('one task read in 10 s: "1 task read (0.1 tasks/s)"', () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const { stream, lines } = logStream();
    const p = new Progress(true, stream);
    vi.setSystemTime(1_000_000 + 10_000);
    p.update(1);
    expect(lines).toEqual(['ls-export: 1 task read (0.1 tasks/s)\n']);
  });

  it('many tasks: thousands separated, whole tasks a second', () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const { stream, lines } = logStream();
    const p = new Progress(true, stream);
    vi.setSystemTime(1_000_000 + 4_000);
    p.update(12_500);
    expect(lines).toEqual(['ls-export: 12,500 tasks read (3,125 tasks/s)\n']);
  });
});

describe('taskRate', () => {
  it('whole numbers from 10 a second, one decimal from 1, one significant digit below', () => {
    expect(taskRate(70, 0.5)).toBe('140 tasks/s');
    expect(taskRate(35, 10)).toBe('3.5 tasks/s');
    expect(taskRate(5, 10.1)).toBe('0.5 tasks/s');
    expect(taskRate(1, 20)).toBe('0.05 tasks/s');
  });

  it('the summary of a slow run (5 tasks in 10.1 s) shows 0.5 tasks/s, not 0 tasks/s', () => {
    const line = summaryLine({
      results: [{ format: 'CSV', copied: false, into: 'out', files: 1 }],
      tasks: 5,
      seconds: 10.1,
      skipped: 0,
      warnings: 0,
      reportName: 'report.json',
    });
    expect(line).toContain('in 10.1 s (0.5 tasks/s)');
  });
});
