import { describe, expect, it } from 'vitest';
import { Report } from '../../functions/core/report.ts';

describe('Report', () => {
  it('counts a repeated entry once (several formats see the same task)', () => {
    const r = new Report();
    r.warn({ source: 'a.json[1]', taskId: 2, reason: 'x' });
    r.warn({ source: 'a.json[1]', taskId: 2, reason: 'x' });
    r.skip({ source: 'a.json[1]', taskId: 2, reason: 'x' });
    expect(r.toJSON()).toMatchObject({ warningCount: 1, skippedCount: 1, truncated: false });
  });

  it('entries that differ in any field are not repeats', () => {
    const r = new Report();
    const base = {
      source: 'a.json[1]',
      taskId: 2,
      reason: 'x',
      format: 'VOC',
      annotationId: 3,
      resultId: 'r',
    };
    for (const entry of [
      base,
      { ...base, format: 'YOLO' },
      { ...base, annotationId: 4 },
      { ...base, resultId: 's' },
      { ...base, fromName: 'label' },
      { ...base, taskId: undefined },
      { ...base, reason: 'x\u0000' },
      { ...base },
    ])
      r.skip(entry);
    expect(r.skippedCount).toBe(7);
    expect(r.skipped.map((e) => e.format ?? '')).toHaveLength(7);
  });

  it('keeps at most `limit` entries but counts them all', () => {
    const r = new Report(2);
    for (let i = 0; i < 5; i++) r.skip({ source: `k${i}`, reason: 'bad' });
    const json = r.toJSON();
    expect(json.skipped.map((e) => e.source)).toEqual(['k0', 'k1']);
    expect(json.skippedCount).toBe(5);
    expect(json.truncated).toBe(true);
  });
});

describe('Report.addCounts', () => {
  it('sums per-format result counts and left-out tasks of reports made apart (segments)', () => {
    const r = new Report();
    r.regionCounts('COCO').exported = 2;
    r.addCounts({ regions: { COCO: { exported: 3, skipped: 1 }, YOLO: { exported: 4, skipped: 0 } } });
    r.addCounts({ regions: { COCO: { exported: 1, skipped: 2 } }, tasksWithoutAnnotations: 2 });
    r.addCounts({ tasksWithoutAnnotations: 1 });
    const json = r.toJSON();
    expect(json.regions).toEqual({ COCO: { exported: 6, skipped: 3 }, YOLO: { exported: 4, skipped: 0 } });
    expect(json.tasksWithoutAnnotations).toBe(3);
  });
});
