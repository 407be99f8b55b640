import { describe, expect, it } from 'vitest';
import {
  formatTable,
  median,
  parseTimeOutput,
  rowsFromLog,
  type SideBySideRow,
  summarize,
  type TimeSample,
} from '../../bench/side-by-side.ts';

const sample = (wall: number, user: number, sys: number, maxRssKiB: number): TimeSample => ({
  wall,
  user,
  sys,
  maxRssKiB,
});

describe('parseTimeOutput', () => {
  it('reads wall, user, system seconds and peak RSS from the last line', () => {
    expect(parseTimeOutput('12.34 10.50 0.75 204800\n')).toEqual(sample(12.34, 10.5, 0.75, 204800));
  });

  it("skips GNU time's earlier lines", () => {
    expect(parseTimeOutput('Command exited with non-zero status 1\n0.21 0.18 0.02 51200\n')).toEqual(
      sample(0.21, 0.18, 0.02, 51200),
    );
  });

  it('rejects output that is not four numbers', () => {
    expect(() => parseTimeOutput('0.21 0.18 51200')).toThrow(/%e %U %S %M/);
    expect(() => parseTimeOutput('')).toThrow(/%e %U %S %M/);
    expect(() => parseTimeOutput('a b c d')).toThrow(/%e %U %S %M/);
  });
});

describe('median', () => {
  it('takes the middle of an odd count whatever the order', () => {
    expect(median([9, 1, 5])).toBe(5);
    expect(median([3])).toBe(3);
  });

  it('takes the mean of the two middle values of an even count', () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([10, 2])).toBe(6);
  });

  it('refuses an empty list', () => {
    expect(() => median([])).toThrow(/no values/);
  });
});

describe('summarize', () => {
  it('takes each figure’s own median, CPU as user + system, RSS in MiB', () => {
    const s = summarize([
      sample(3, 2, 0.5, 1024 * 100),
      sample(1, 4, 0.5, 1024 * 300),
      sample(2, 1, 0.5, 1024 * 200),
    ]);
    expect(s).toEqual({ wall: 2, cpu: 2.5, rssMiB: 200 });
  });
});

describe('formatTable', () => {
  const row = (reference?: TimeSample[]): SideBySideRow => ({
    format: 'CSV',
    kind: 'text-ner',
    n: 10000,
    loads: [1.5, 2.25, 0.5],
    ours: [sample(2, 1.5, 0.5, 102400), sample(4, 3, 1, 102400), sample(3, 2, 0.5, 102400)],
    reference,
  });

  it('prints medians and the reference / ls-export ratios of wall and CPU', () => {
    const table = formatTable([
      row([sample(9, 8, 1, 72704), sample(6, 5, 1, 72704), sample(12, 10, 2, 72704)]),
    ]).split('\n');
    expect(table).toHaveLength(3);
    expect(table[2]).toBe(
      '| CSV | text-ner | 10,000 | 3 | 0.50–2.25 | 3.00 | 9.00 | 3.00 | 2.50 | 9.00 | 3.60 | 100 / 71 |',
    );
  });

  it('says the reference is missing when it was not run', () => {
    const line = formatTable([row()]).split('\n')[2];
    expect(line).toBe(
      '| CSV | text-ner | 10,000 | 3 | 0.50–2.25 | 3.00 | missing |  | 2.50 | missing |  | 100 / – |',
    );
  });
});

describe('rowsFromLog', () => {
  const line = (tool: string, format: string, n: number, wall: number, load = 1) =>
    JSON.stringify({
      at: 'x',
      tool,
      format,
      kind: 'text-ner',
      n,
      round: 0,
      load,
      wall,
      user: wall,
      sys: 0,
      maxRssKiB: 1024,
    });

  it('groups runs by format and size, each tool apart, in order of first appearance', () => {
    const rows = rowsFromLog(
      [
        line('ours', 'CSV', 10, 1),
        line('reference', 'CSV', 10, 4),
        '',
        line('ours', 'TSV', 10, 2),
        line('ours', 'CSV', 10, 3, 2),
      ].join('\n'),
    );
    expect(
      rows.map((r) => [r.format, r.ours.map((s) => s.wall), r.reference?.map((s) => s.wall), r.loads]),
    ).toEqual([
      ['CSV', [1, 3], [4], [1, 1, 2]],
      ['TSV', [2], undefined, [1]],
    ]);
    expect(formatTable(rows).split('\n')[2]).toContain(
      '| CSV | text-ner | 10 | 2/1 | 1.00–2.00 | 2.00 | 4.00 | 2.00 |',
    );
  });

  it('names the line that is not JSON', () => {
    expect(() => rowsFromLog(`${line('ours', 'CSV', 10, 1)}\n{oops`)).toThrow(/line 2/);
  });
});
