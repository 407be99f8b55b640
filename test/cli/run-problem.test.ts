/**
 * The one-sentence diagnosis after a run (`runProblem`) counts skips by reason past the report's
 * entry limit, so a large run whose results were mostly skipped still gets its sentence (QA s6
 * newcomer F8: 11,000 skips read "10000 of 11000", and 130,000 printed nothing).
 */
import { describe, expect, it } from 'vitest';
import { runProblem } from '../../functions/cli/convert.ts';
import { Report } from '../../functions/core/report.ts';

const reason = 'from_name "x" is not a control of the label config; the result is left out';

describe('runProblem past the report entry limit', () => {
  it('counts every skipped result of a format, not only the entries kept', () => {
    const report = new Report(100); // keeps 100 entries; the CLI's default keeps 10,000
    const counts = report.regionCounts('YOLO');
    for (let i = 0; i < 1_300; i++) {
      report.skip({ source: `t[${i}]`, taskId: i, resultId: 'r', format: 'YOLO', reason });
      counts.skipped++;
    }
    expect(report.skipped).toHaveLength(100);
    expect(runProblem(report, 1_300)).toBe(
      `most results were skipped because ${reason} (1300 of 1300 in YOLO); is this the project's label config?`,
    );
  });

  it('counts every skipped input', () => {
    const report = new Report(10);
    for (let i = 0; i < 50; i++) report.skip({ source: `input/${i}.json`, reason: 'not JSON' });
    expect(runProblem(report, 5)).toBe('most inputs were skipped for one reason (50 of 55): not JSON');
  });

  it('names no reason when none has a majority', () => {
    const report = new Report(10);
    for (let i = 0; i < 40; i++) report.skip({ source: `input/${i}.json`, reason: `reason ${i % 4}` });
    expect(runProblem(report, 30)).toBeUndefined(); // 10 of 40: no majority
  });
});
