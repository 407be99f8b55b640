/**
 * Case sec-07 in the snapshot path: a format converted from snapshot.json is zipped (yazl) under
 * the names the writers made safe, so an image named with backslashes and `..` no longer fails the
 * zip; every task keeps its file.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../functions/pipeline/config.ts';
import { convertSnapshot } from '../../functions/pipeline/snapshot.ts';
import { fsContext, OUT, tempDir } from './helpers.ts';

const CASE = join(import.meta.dirname, '..', 'fixtures', 'cases', 'sec-07-zip-backslash-name-aborts');

describe('snapshot zip with unsafe image names (sec-07)', () => {
  it('YOLO of a snapshot: the zip is written, every entry name safe, all three tasks in it', async () => {
    const root = await tempDir();
    const config = parseConfig({
      version: 1,
      projects: [
        {
          id: 'p',
          source: { bucket: 'src', prefix: 'ls' },
          labelConfig: { inline: readFileSync(join(CASE, 'config.xml'), 'utf8') },
          formats: ['YOLO'],
          export: { bucket: OUT, prefix: 'exports' },
        },
      ],
    });
    const ctx = fsContext(root, config);
    const prefix = 'exports/p/snapshots/s1/';
    await ctx.store(OUT).put(`${prefix}snapshot.json`, readFileSync(join(CASE, 'tasks.json')));
    const result = await convertSnapshot(
      ctx,
      config.projects[0],
      { name: 's1', prefix, file: `${prefix}snapshot.json` },
      'YOLO',
      new Date('2025-01-01T00:00:00Z'),
    );
    expect(result.status).toBe('completed');
    expect(result.download).toEqual({ key: `${prefix}YOLO.zip`, filename: 's1.zip' });
    const names = execFileSync(
      'python3',
      [
        '-c',
        'import sys,zipfile; print("\\n".join(sorted(zipfile.ZipFile(sys.argv[1]).namelist())))',
        join(root, OUT, ...`${prefix}YOLO.zip`.split('/')),
      ],
      { encoding: 'utf8' },
    )
      .trim()
      .split('\n');
    const labels = names.filter((n) => n.startsWith('labels/'));
    expect(labels).toHaveLength(3);
    for (const n of names) expect(n.split('/').every((s) => s !== '..' && !s.includes('\\'))).toBe(true);
    expect(labels.some((n) => /^labels\/[0-9a-f]{8}__a_\.\._.*zipslip~[0-9a-f]{10}\.txt$/.test(n))).toBe(
      true,
    );
    expect(names).toEqual([...(result.files ?? []).map((f) => f.path)].sort());
  });
});
