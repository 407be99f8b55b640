/**
 * The entry-name rule of archives (core/zip-entry.ts), shared by the CLI's yazl zip and the
 * pipeline's own zip writer: it refuses exactly what yazl refuses.
 */
import { describe, expect, it } from 'vitest';
import yazl from 'yazl';
import { addZipEntry, zipEntrySkip, zipNameProblem } from '../../functions/core/zip-entry.ts';

describe('zip entry names', () => {
  it('refuses the entry names yazl refuses, and only those', () => {
    const names = [
      'ok.txt',
      'a/b/c.txt',
      '',
      '/abs.txt',
      'C:/x.txt',
      'c:x',
      '../up.txt',
      'a/../b.txt',
      'a\\..\\b.txt',
      'dir/',
      'x'.repeat(65_536),
      'é'.repeat(32_768),
      'ü.txt',
      '..x/y',
      'a/./b',
    ];
    for (const name of names) {
      let yazlRefuses = false;
      try {
        new yazl.ZipFile().addBuffer(Buffer.alloc(0), name);
      } catch {
        yazlRefuses = true;
      }
      expect([name.slice(0, 20), zipNameProblem(name) !== undefined]).toEqual([
        name.slice(0, 20),
        yazlRefuses,
      ]);
    }
  });

  it('a refused name is a skip with its reason; the library is not called for it', () => {
    expect(zipEntrySkip('a/../b.txt')).toEqual({
      path: 'a/../b.txt',
      reason: 'not a valid zip entry name (invalid relative path: a/../b.txt); it is left out of the archive',
    });
    expect(zipEntrySkip('labels/a.txt')).toBeUndefined();
    let called = 0;
    expect(addZipEntry('/abs', () => called++)?.reason).toMatch(/absolute path: \/abs/);
    expect(called).toBe(0);
    expect(addZipEntry('ok', () => called++)).toBeUndefined();
    expect(called).toBe(1);
    // What the library refuses beyond the rule is a skip too.
    expect(
      addZipEntry('ok2', () => {
        throw new Error('library says no');
      })?.reason,
    ).toMatch(/\(library says no\)/);
  });
});
