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

  it('keeps at most `limit` entries but counts them all', () => {
    const r = new Report(2);
    for (let i = 0; i < 5; i++) r.skip({ source: `k${i}`, reason: 'bad' });
    const json = r.toJSON();
    expect(json.skipped.map((e) => e.source)).toEqual(['k0', 'k1']);
    expect(json.skippedCount).toBe(5);
    expect(json.truncated).toBe(true);
  });
});
