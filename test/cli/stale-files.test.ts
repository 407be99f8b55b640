/**
 * filesNotWritten: the files of an output folder that a run did not write, found folder by folder
 * (nested folders, sorted, `/`-separated), minus those the run wrote or `keep` claims.
 */
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { filesNotWritten } from '../../functions/cli/stale-files.ts';

function folder(files: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'ls-export-stale-'));
  for (const f of files) {
    mkdirSync(join(dir, f, '..'), { recursive: true });
    writeFileSync(join(dir, f), 'x');
  }
  return dir;
}

describe('filesNotWritten', () => {
  it('lists the files, at any depth, that were neither written nor kept, sorted', async () => {
    const dir = folder([
      'classes.txt',
      'labels/b.txt',
      'labels/a.txt',
      'labels/old/c.txt',
      'report.json',
      'images/x.jpg',
    ]);
    const written = new Set(['classes.txt', 'labels/a.txt']);
    const keep = (p: string) => p === 'report.json' || p.startsWith('images/');
    expect(await filesNotWritten(dir, written, keep)).toEqual(['labels/b.txt', 'labels/old/c.txt']);
  });

  it('a folder of 3,000 files: only the one not written is listed', async () => {
    const names = Array.from({ length: 3000 }, (_, i) => `labels/img_${i}.txt`);
    const dir = folder(names);
    const written = new Set(names.filter((n) => n !== 'labels/img_1234.txt'));
    expect(await filesNotWritten(dir, written, () => false)).toEqual(['labels/img_1234.txt']);
  });

  it('a missing folder has none; a symbolic link to a folder is not followed', async () => {
    expect(
      await filesNotWritten(join(tmpdir(), 'ls-export-no-such-folder-x'), new Set(), () => false),
    ).toEqual([]);
    const outside = folder(['elsewhere.txt']);
    const dir = folder(['a.txt']);
    symlinkSync(outside, join(dir, 'linked'));
    expect(await filesNotWritten(dir, new Set(), () => false)).toEqual(['a.txt']);
  });
});
