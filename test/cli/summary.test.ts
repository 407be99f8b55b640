/** The convert summary counts skipped inputs apart from skipped regions (each region is also in `regions`). */
import { describe, expect, it } from 'vitest';
import { summaryLine } from '../../functions/cli/summary.ts';

const base = {
  results: [{ format: 'YOLO', copied: false, into: 'out', files: 3 }],
  tasks: 3,
  seconds: 1,
  warnings: 0,
  reportName: 'report.json',
};

describe('summaryLine', () => {
  it('regions skipped only: no "inputs skipped", the regions are named', () => {
    const line = summaryLine({ ...base, skipped: 98, regions: { YOLO: { exported: 2, skipped: 98 } } });
    expect(line).toContain('; regions 2 exported, 98 skipped');
    expect(line).not.toContain('input');
    expect(line).not.toContain('nothing skipped');
  });

  it('inputs and regions: the inputs are the report skips that are not regions', () => {
    const line = summaryLine({ ...base, skipped: 7, regions: { YOLO: { exported: 2, skipped: 5 } } });
    expect(line).toContain('; regions 2 exported, 5 skipped; 2 inputs skipped');
  });

  it('nothing skipped', () => {
    expect(summaryLine({ ...base, skipped: 0, regions: { YOLO: { exported: 2, skipped: 0 } } })).toContain(
      '; nothing skipped',
    );
  });
});
