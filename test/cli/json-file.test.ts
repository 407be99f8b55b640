import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { prettyJsonPieces, writeJsonFile } from '../../functions/cli/json-file.ts';
import { Report } from '../../functions/core/report.ts';

const dir = await mkdtemp(join(tmpdir(), 'json-file-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

const expected = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;

describe('writeJsonFile', () => {
  it('writes the bytes of JSON.stringify(value, null, 2) + newline for a report with many entries', async () => {
    const report = new Report();
    for (let n = 0; n < 3_000; n++) {
      report.skip({ source: `tasks.json[${n}]`, taskId: n, format: 'YOLO', reason: `bad "${n}"\n\u2028é` });
      if (n % 3 === 0) report.warn({ source: `tasks.json[${n}]`, reason: 'a warning' });
    }
    report.regionCounts('YOLO').exported = 7;
    const json = report.toJSON();
    const path = join(dir, 'report.json');
    await writeJsonFile(path, json);
    const text = await readFile(path, 'utf8');
    expect(text).toBe(expected(json));
    // Larger than one batch of pieces, so several writes made it.
    expect(text.length).toBeGreaterThan(3 * 64 * 1024);
  });

  it('matches JSON.stringify for empty arrays and objects, undefined keys, nested arrays and non-objects', () => {
    const values: unknown[] = [
      { skipped: [], warnings: [], regions: {}, gone: undefined, f: () => 1, n: null },
      { a: { toJSON: () => undefined }, s: Symbol('x'), d: new Date(0), b: [{ toJSON: () => 'x' }] },
      { list: [1, [2, [3, {}]], { a: [] }, undefined, 'x\ny'], nested: { deep: { list: [1, 2] } } },
      {},
      [],
      [{ a: 1 }],
      'text',
      42,
      null,
      { toJSON: () => ({ replaced: [1] }) },
    ];
    for (const v of values) expect([...prettyJsonPieces(v)].join('')).toBe(expected(v));
  });

  it('rejects with the file system error for a path it cannot write', async () => {
    await expect(writeJsonFile(join(dir, 'missing', 'report.json'), { a: 1 })).rejects.toMatchObject({
      code: 'ENOENT',
    });
  });
});
